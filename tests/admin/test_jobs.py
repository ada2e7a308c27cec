"""The back office's Jobs page: failed jobs with their error and arguments (escaped), Retry
for admins only (POST with CSRF), and the page of a long job's progress."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.extensions import jobs
from portal.models import JobFailure, JobRun, StaffUser
from portal.services.reporting.jobs import new_run, record_failure
from tests.admin.conftest import audit_rows, log_in, post, text
from tests.jobs.test_queue import ATTEMPTS, flaky  # noqa: F401  (declares the test jobs)


def _failure(session: Session, *args: Any, name: str = "tests.flaky") -> int:
    failure = record_failure(
        session, task_id="abc123", task_name=name, args=list(args), kwargs={},
        error="ConnectionError: <mail relay> refused", attempts=9, now=datetime.now(UTC),
    )  # fmt: skip
    session.commit()
    return failure.id


def test_failed_jobs_are_listed_with_error_time_and_escaped_arguments(
    admin_client: FlaskClient, session: Session
) -> None:
    _failure(session, "<script>alert(1)</script>", 0)
    page = text(admin_client.get("/admin/jobs"))
    assert "tests.flaky" in page
    assert "ConnectionError: &lt;mail relay&gt; refused" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert 'action="/admin/jobs/failures/' in page  # the Retry button


def test_retry_enqueues_the_job_again_once_and_records_who(
    admin_client: FlaskClient, session: Session, admin: StaffUser
) -> None:
    ATTEMPTS.clear()
    failure_id = _failure(session, "halo", 0)
    response = post(admin_client, f"/admin/jobs/failures/{failure_id}/retry")
    assert response.status_code == 302
    assert ATTEMPTS == ["halo"]  # run again (at once, in tests)
    session.expire_all()
    failure = session.get(JobFailure, failure_id)
    assert failure is not None and failure.retried_at is not None
    assert failure.retried_by == admin.id
    session.commit()
    page = text(admin_client.get("/admin/jobs"))
    assert "queued again" in page
    assert "tests.flaky" not in page.split("Recent long jobs")[0].split("Failed jobs")[1]
    assert [e.entity_id for e in audit_rows(session, "job.retry")] == [str(failure_id)]
    again = post(admin_client, f"/admin/jobs/failures/{failure_id}/retry")
    assert again.status_code == 302
    assert ATTEMPTS == ["halo"]
    assert "retried already" in text(admin_client.get("/admin/jobs"))


def test_a_retry_that_fails_again_is_listed_again(
    admin_client: FlaskClient, session: Session
) -> None:
    ATTEMPTS.clear()
    failure_id = _failure(session, "halo", 99)
    post(admin_client, f"/admin/jobs/failures/{failure_id}/retry")
    session.expire_all()
    rows = list(session.scalars(select(JobFailure).order_by(JobFailure.id)))
    session.commit()
    assert [(r.id == failure_id, r.retried_at is None) for r in rows] == [
        (True, False),
        (False, True),
    ]


def test_viewers_see_failed_jobs_but_cannot_retry(
    viewer_client: FlaskClient, session: Session
) -> None:
    ATTEMPTS.clear()
    failure_id = _failure(session, "halo", 0)
    page = text(viewer_client.get("/admin/jobs"))
    assert "tests.flaky" in page and "Retry</button>" not in page
    assert post(viewer_client, f"/admin/jobs/failures/{failure_id}/retry").status_code == 403
    assert ATTEMPTS == []


def test_retry_without_the_csrf_token_is_refused(
    make_app: Any, app: Flask, session: Session, admin: StaffUser
) -> None:
    ATTEMPTS.clear()
    failure_id = _failure(session, "halo", 0)
    client = log_in(make_app(WTF_CSRF_ENABLED=True).test_client(), admin)
    assert client.post(f"/admin/jobs/failures/{failure_id}/retry").status_code == 400
    assert ATTEMPTS == []


def test_a_failed_sweep_can_be_run_again_at_once(
    admin_client: FlaskClient, session: Session
) -> None:
    failure_id = _failure(session, name="reminders.sweep")
    post(admin_client, f"/admin/jobs/failures/{failure_id}/retry")
    assert "(reminders.sweep) queued again" in text(admin_client.get("/admin/jobs"))
    session.expire_all()
    assert len(session.scalars(select(JobFailure)).all()) == 1  # it ran, and did not fail
    session.commit()


def test_a_job_of_a_name_no_longer_known_is_not_retried(
    admin_client: FlaskClient, session: Session
) -> None:
    failure_id = _failure(session, name="mail.gone")
    post(admin_client, f"/admin/jobs/failures/{failure_id}/retry")
    assert "no job called mail.gone" in text(admin_client.get("/admin/jobs"))
    session.expire_all()
    failure = session.get(JobFailure, failure_id)
    assert failure is not None and failure.retried_at is None
    session.commit()


def test_a_running_job_page_reloads_itself_until_it_is_done(
    admin_client: FlaskClient, session: Session
) -> None:
    run = new_run(session, task_name="tests.count", title="Counting", started_by=None,
                  now=datetime.now(UTC))  # fmt: skip
    run.done, run.total, run.message = 2, 5, "row 2 of 5"
    run_id = run.id
    session.commit()
    page = text(admin_client.get(f"/admin/jobs/{run_id}"))
    assert '<meta http-equiv="refresh" content="2">' in page
    assert 'value="2"' in page and "row 2 of 5" in page
    run = session.get(JobRun, run_id)
    assert run is not None
    run.state, run.result = "done", json.dumps({"bills_created": 5})
    session.commit()
    page = text(admin_client.get(f"/admin/jobs/{run_id}"))
    assert "http-equiv" not in page
    assert "bills_created" in page
    assert admin_client.get("/admin/jobs/0123456789abcdef0123456789abcdef").status_code == 404


def test_a_long_job_started_from_the_web_ends_on_its_page(
    admin_client: FlaskClient, app: Flask, session: Session
) -> None:
    with app.app_context():
        run_id = jobs.start("tests.count", 4, title="Counting to four")
    page = text(admin_client.get(f"/admin/jobs/{run_id}"))
    assert "Counting to four" in page and "4 / 4" in page and "counted" in page
    assert "Counting to four" in text(admin_client.get("/admin/jobs"))
