"""The job queue in-process: storage from JOBS_URL, retries, failures kept for staff, the
periodic sweeps, progress of long jobs, and /forgot only enqueueing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db, jobs
from portal.jobs import Progress
from portal.jobs.mail import send_notice
from portal.models import JobFailure, JobRun, ReminderSent
from tests.factories import make_bill
from tests.policyholder.conftest import csrf_token, make_holder

ATTEMPTS: list[str] = []


@jobs.task("tests.flaky", retries=2)
def flaky(word: str, fail_times: int) -> str:
    ATTEMPTS.append(word)
    if len(ATTEMPTS) <= fail_times:
        raise ConnectionError(f"attempt {len(ATTEMPTS)} for {word}")
    return word


@jobs.tracked("tests.count")
def count(progress: Progress, upto: int) -> dict[str, int]:
    for number in range(1, upto + 1):
        progress.update(number, upto, f"counted {number}")
    return {"counted": upto}


@jobs.tracked("tests.broken")
def broken(progress: Progress) -> None:
    progress.update(1, 3, "started")
    raise ValueError("the file is not what it claimed")


@pytest.fixture(autouse=True)
def _fresh_attempts() -> None:
    ATTEMPTS.clear()


def _failures(session: Session) -> list[JobFailure]:
    session.expire_all()
    rows = list(session.scalars(select(JobFailure).order_by(JobFailure.id)))
    session.commit()
    return rows


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (None, SqliteHuey),
        ("redis://127.0.0.1:6379/1", RedisHuey),
        ("memory://", MemoryHuey),
    ],
)
def test_jobs_url_chooses_the_queue_storage(url: str | None, kind: type) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JOBS_URL": url})
    huey = jobs.huey(app)
    assert type(huey) is kind
    if url is None:  # the default: a file in the instance folder
        assert Path(huey.storage.filename) == Path(app.instance_path) / "jobs.sqlite3"


def test_an_unknown_jobs_url_stops_start_up_naming_it() -> None:
    with pytest.raises(ConfigError, match="JOBS_URL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "JOBS_URL": "amqp://broker"})  # fmt: skip


def test_a_failed_attempt_is_retried_and_a_success_leaves_no_failure(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        jobs.enqueue("tests.flaky", "halo", 2)
    assert ATTEMPTS == ["halo", "halo", "halo"]
    assert _failures(session) == []


def test_a_job_that_fails_every_attempt_is_kept_with_its_error_and_arguments(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        task_id = jobs.enqueue("tests.flaky", "<b>halo</b>", 5)
    assert len(ATTEMPTS) == 3  # the first attempt and two retries
    [failure] = _failures(session)
    assert (failure.task_id, failure.task_name, failure.attempts) == (task_id, "tests.flaky", 3)
    assert failure.error == "ConnectionError: attempt 3 for <b>halo</b>"
    assert json.loads(failure.arguments) == {"args": ["<b>halo</b>", 5], "kwargs": {}}
    assert failure.retried_at is None


def test_emails_retry_with_a_growing_delay() -> None:
    spec = send_notice.spec
    assert (spec.retries, spec.retry_delay, spec.retry_backoff) == (8, 60, 2)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "JOBS_URL": "memory://"})  # fmt: skip
    wrapper = jobs.state(app).tasks["mail.notice"]
    task = wrapper.s(1, "due_soon", "a@example.com", "s", "t")
    assert (task.retries, task.retry_delay, task.retry_backoff) == (8, 60, 2)


def _queued(app: Flask) -> list[Any]:
    return list(jobs.huey(app).pending())


def test_forgot_password_only_enqueues_the_same_job_for_known_and_unknown_addresses(
    make_app: Any, app: Flask, session: Session
) -> None:
    make_holder(session)
    queued = make_app(JOBS_IMMEDIATE=False, JOBS_URL="memory://")
    client = queued.test_client()
    pages = []
    for address in ("budi@example.com", "nobody@example.com"):
        response = client.post(
            "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": address}
        )
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))
    tasks = _queued(queued)
    assert [(t.name, t.args) for t in tasks] == [
        ("mail.password_reset", ("budi@example.com",)),
        ("mail.password_reset", ("nobody@example.com",)),
    ]
    assert "Periksa email Anda" in pages[0] and "Periksa email Anda" in pages[1]


def test_reminder_sweep_queues_each_notice_once(
    make_app: Any, app: Flask, session: Session
) -> None:
    from datetime import UTC, datetime

    from portal.services.billing.payment_codes import WIB

    today = datetime.now(UTC).astimezone(WIB).date()
    make_bill(session, due_date=today + timedelta(days=1))
    session.commit()
    queued = make_app(JOBS_IMMEDIATE=False, JOBS_URL="memory://")
    with queued.app_context():
        sweep = jobs.state(queued).tasks["reminders.sweep"]
        jobs.huey(queued).execute(sweep.s())
        jobs.huey(queued).execute(sweep.s())  # an overlapping or later sweep
        claims = db.session.scalars(select(ReminderSent.kind)).all()
        db.session.rollback()
    [task] = _queued(queued)
    assert task.name == "mail.notice" and task.args[1] == "due_soon"
    assert "Premi jatuh tempo" in task.args[3]
    assert claims == ["due_soon"]


def test_reconciliation_sweep_that_cannot_reach_doku_is_kept_for_staff(
    make_app: Any, app: Flask, session: Session
) -> None:
    from tests.api.test_reconcile import _asked_at_till
    from tests.live import free_port

    bill = make_bill(session)
    session.commit()
    _asked_at_till(app.test_client(), session, bill, minutes_ago=30)
    down = make_app(DOKU_API_BASE_URL=f"http://127.0.0.1:{free_port()}",
                    DOKU_RECONCILE_DELAY_SECONDS=120)  # fmt: skip
    with down.app_context():
        sweep = jobs.state(down).tasks["doku.reconcile"]
        jobs.huey(down).execute(sweep.s())
    [failure] = _failures(session)
    assert failure.task_name == "doku.reconcile"
    assert "ReconciliationIncomplete: 1 of 1 bill(s) could not be checked" in failure.error


def test_a_long_job_reports_progress_and_its_result(app: Flask, session: Session) -> None:
    with app.app_context():
        run_id = jobs.start("tests.count", 3, title="Counting")
    session.expire_all()
    run = session.get(JobRun, run_id)
    assert run is not None
    assert (run.state, run.done, run.total, run.message) == ("done", 3, 3, "counted 3")
    assert json.loads(run.result or "") == {"counted": 3}
    assert run.finished_at is not None


def test_a_long_job_that_fails_shows_its_error_and_is_kept_for_staff(
    app: Flask, session: Session
) -> None:
    with app.app_context():
        run_id = jobs.start("tests.broken", title="Broken")
    session.expire_all()
    run = session.get(JobRun, run_id)
    assert run is not None
    assert (run.state, run.done, run.total) == ("failed", 1, 3)
    assert run.error == "ValueError: the file is not what it claimed"
    [failure] = _failures(session)
    assert json.loads(failure.arguments)["args"] == [run_id]


def test_notify_due_with_queue_leaves_the_sending_to_the_consumer(
    make_app: Any, app: Flask, session: Session
) -> None:
    from datetime import UTC, datetime

    from portal.services.billing.payment_codes import WIB

    make_bill(session, due_date=datetime.now(UTC).astimezone(WIB).date() + timedelta(days=1))
    session.commit()
    queued = make_app(JOBS_IMMEDIATE=False, JOBS_URL="memory://")
    with queued.app_context():
        result = queued.test_cli_runner().invoke(args=["notify", "due", "--queue"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 email(s); 0 could not be queued." in result.output
    assert [t.name for t in _queued(queued)] == ["mail.notice"]


def test_the_queue_schedules_the_sweeps_itself(app: Flask) -> None:
    """No cron needed: the consumer enqueues the reminder and reconciliation sweeps every 5
    minutes and the prune nightly (README: Background jobs)."""
    from datetime import datetime

    huey = jobs.huey(app)

    def due(hour: int, minute: int) -> list[str]:
        return sorted(t.name for t in huey.read_periodic(datetime(2026, 12, 2, hour, minute)))

    assert due(10, 5) == ["doku.reconcile", "reminders.sweep"]
    assert due(10, 7) == []
    assert due(3, 17) == ["doku.prune"]
    assert due(3, 20) == ["doku.reconcile", "reminders.sweep"]
