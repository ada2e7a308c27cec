"""What staff see of background jobs: the ones that kept failing, and long jobs' progress.

The queue (``portal.jobs``) writes these rows; the back office reads them. Like every service,
these functions flush and leave committing to the caller.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.models import JobFailure, JobRun, RunState, StaffUser
from portal.models.jobs import ERROR_MAX
from portal.services.paging import Page, paginate
from portal.services.session import Session

ARGUMENTS_MAX = 4000


def arguments_json(args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> str:
    """The job's arguments as JSON, to show (escaped) and to enqueue the job again."""
    return json.dumps({"args": list(args), "kwargs": kwargs}, default=str, ensure_ascii=False)


def record_failure(
    session: Session,
    *,
    task_id: str,
    task_name: str,
    args: tuple[Any, ...] | list[Any],
    kwargs: dict[str, Any],
    error: str,
    attempts: int,
    now: datetime,
) -> JobFailure:
    failure = JobFailure(
        task_id=task_id,
        task_name=task_name,
        arguments=arguments_json(args, kwargs),
        error=error[:ERROR_MAX],
        attempts=attempts,
        failed_at=now,
    )
    session.add(failure)
    session.flush()
    return failure


@dataclass(frozen=True, slots=True)
class FailureArguments:
    args: list[Any]
    kwargs: dict[str, Any]


def failure_arguments(failure: JobFailure) -> FailureArguments:
    loaded = json.loads(failure.arguments)
    return FailureArguments(list(loaded.get("args", [])), dict(loaded.get("kwargs", {})))


def failures(session: Session, *, include_retried: bool, page: int) -> Page[JobFailure]:
    query = select(JobFailure).order_by(JobFailure.failed_at.desc(), JobFailure.id.desc())
    if not include_retried:
        query = query.where(JobFailure.retried_at.is_(None))
    return paginate(session, query, page)


def mark_retried(session: Session, failure: JobFailure, *, by: StaffUser, now: datetime) -> None:
    failure.retried_at = now
    failure.retried_by = by.id
    session.flush()


# --- progress of long jobs -----------------------------------------------------------------


def new_run(
    session: Session, *, task_name: str, title: str, started_by: int | None, now: datetime
) -> JobRun:
    run = JobRun(
        id=uuid.uuid4().hex,
        task_name=task_name,
        title=title[:200],
        state=RunState.QUEUED.value,
        started_by=started_by,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    session.flush()
    return run


def run_result(run: JobRun) -> Any:
    return None if run.result is None else json.loads(run.result)


def recent_runs(session: Session, *, limit: int = 20) -> list[JobRun]:
    return list(
        session.scalars(select(JobRun).order_by(JobRun.created_at.desc(), JobRun.id).limit(limit))
    )


def pretty_arguments(failure: JobFailure) -> str:
    """The arguments for a person to read (the template escapes them), cut to a sane size."""
    try:
        text = json.dumps(json.loads(failure.arguments), indent=2, ensure_ascii=False)
    except ValueError:
        text = failure.arguments
    return text if len(text) <= ARGUMENTS_MAX else text[:ARGUMENTS_MAX] + "\n…"
