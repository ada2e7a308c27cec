"""Background jobs for staff: the ones that kept failing (with a Retry button) and the
progress of long jobs started from these pages."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import error_page, now, page_arg, staff, write_required
from portal.admin.forms import ActionForm
from portal.extensions import db, jobs
from portal.jobs import UnknownJob
from portal.models import JobFailure, JobRun
from portal.services.accounts import audit
from portal.services.reporting import jobs as job_records


@bp.route("/jobs")
def jobs_page() -> str:
    include_retried = request.args.get("show") == "all"
    return render_template(
        "admin/jobs.html",
        page=job_records.failures(db.session, include_retried=include_retried, page=page_arg()),
        show="all" if include_retried else "open",
        runs=job_records.recent_runs(db.session),
        pretty=job_records.pretty_arguments,
        action_form=ActionForm(),
    )


@bp.route("/jobs/failures/<int:failure_id>/retry", methods=["POST"])
@write_required
def retry_job(failure_id: int) -> Response:
    back = url_for("admin.jobs_page")
    if not ActionForm().validate_on_submit():
        return error_page(400, back=back)
    failure = db.get_or_404(JobFailure, failure_id)
    if failure.retried_at is not None:
        flash(_("Job #%(id)d was retried already.", id=failure.id), "error")
        return redirect(back)
    name, arguments = failure.task_name, job_records.failure_arguments(failure)
    job_records.mark_retried(db.session, failure, by=staff(), now=now())
    audit.record(
        db.session, actor=staff(), action="job.retry", entity="job_failure",
        entity_id=failure_id, before=None, after={"task": name}, now=now(),
    )  # fmt: skip
    db.session.commit()  # before enqueueing: the consumer reads committed rows
    try:
        jobs.enqueue(name, *arguments.args, **arguments.kwargs)
    except UnknownJob:
        _undo_retry(failure_id)
        flash(_("There is no job called %(name)s any more.", name=name), "error")
        return redirect(back)
    except Exception as exc:
        _undo_retry(failure_id)
        flash(_("The job could not be queued: %(error)s", error=str(exc)), "error")
        return redirect(back)
    flash(_("Job #%(id)d (%(name)s) queued again.", id=failure_id, name=name), "success")
    return redirect(back)


def _undo_retry(failure_id: int) -> None:
    failure = db.session.get(JobFailure, failure_id)
    if failure is not None:
        failure.retried_at = failure.retried_by = None
        db.session.commit()


@bp.route("/jobs/<string:run_id>")
def job_run(run_id: str) -> Any:
    run = db.get_or_404(JobRun, run_id)
    return render_template("admin/job_run.html", run=run, result=job_records.run_result(run))
