"""What past imports did, for the back office: runs, their notes and their conflicts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from portal.models import ImportConflict, ImportRun
from portal.services.billing.imports import Summary
from portal.services.messages import Message
from portal.services.paging import Page, paginate
from portal.services.session import Session


@dataclass(frozen=True, slots=True)
class RunSummaries:
    notes: list[Summary]
    errors: list[Summary]


def runs(session: Session, page: int) -> Page[ImportRun]:
    return paginate(session, select(ImportRun).order_by(ImportRun.id.desc()), page)


def summaries(run: ImportRun) -> RunSummaries:
    stored = json.loads(run.summary or "{}")

    def read(key: str) -> list[Summary]:
        return [
            Summary(
                s["key"], Message.stored(s["message"]), s["count"], list(s["lines"]), s["value"]
            )
            for s in stored.get(key, [])
        ]

    return RunSummaries(notes=read("notes"), errors=read("errors"))


def conflicts(session: Session, run_id: int, page: int) -> Page[ImportConflict]:
    statement = (
        select(ImportConflict)
        .where(ImportConflict.run_id == run_id)
        .order_by(ImportConflict.line, ImportConflict.id)
    )
    return paginate(session, statement, page)


def all_conflicts(session: Session, page: int) -> Page[ImportConflict]:
    statement = select(ImportConflict).order_by(ImportConflict.id.desc())
    return paginate(session, statement, page)
