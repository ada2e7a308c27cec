"""Bill import through the browser: upload, see what it would do, confirm; past imports and
the conflicts they found.

Checking runs the import's own checks with nothing written; confirming applies the file in
committed chunks (``apply_import``), checking it once more first. Between the two steps the
file waits in the database as an import run under a random token, for the staff member who
sent it only, so any app server can take the confirmation.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import (
    APPLYING,
    CHECK_ACCEPTED,
    CHECK_REFUSED,
    CHECKING,
    IMPORTED,
    NO_LONGER_FITS,
    error_page,
    now,
    page_arg,
    staff,
    write_required,
)
from portal.admin.forms import ImportConfirmForm, ImportUploadForm
from portal.extensions import db, jobs
from portal.jobs import Progress
from portal.models import ImportRun, JobRun
from portal.services.billing import import_history, staged_imports
from portal.services.billing.import_preview import ERRORS_SHOWN, Outcome
from portal.services.billing.import_template import template_table
from portal.services.billing.imports import apply_import, check, shown_value
from portal.services.reporting import jobs as job_records
from portal.services.reporting import spreadsheets
from portal.web import ADMIN_PREFIX, code_settings, policy_statuses

TOKEN = re.compile(r"^[0-9a-f]{32}$")


@bp.route("/import", methods=["GET", "POST"])
@write_required
def import_upload() -> Any:
    """Keep the upload, then let the job consumer check it: a big file takes longer than a
    request may (the job page follows it and links to the check's result)."""
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.csv_file.data
        filename = str(upload.filename or "bills.csv")[:200]
        token = staged_imports.stage(
            db.session, data=upload.read(), filename=filename, staff=staff(), now=now()
        )
        db.session.commit()
        job_id = jobs.start(
            "bills.import_check",
            token,
            staff().id,
            title=_("Check %(file)s", file=filename),
            started_by=staff().id,
        )
        return redirect(url_for("admin.job_run", run_id=job_id))
    return render_template("admin/import.html", form=form)


@jobs.tracked("bills.import_check")
def check_import_job(progress: Progress, token: str, staff_id: int) -> dict[str, Any]:
    """Check a staged upload against the database, writing nothing; the result page offers
    the confirmation."""
    staged = staged_imports.waiting(db.session, token=token, staff_id=staff_id, now=now())
    if staged is None:
        raise LookupError("this upload is no longer waiting to be checked")
    data, filename = staged.content, staged.filename
    db.session.rollback()  # on SQLite a read transaction holds the write lock
    progress.update(0, None, str(CHECKING(file=filename)))
    # Each chunk's read ends its transaction: on SQLite one holds the write lock.
    report = check(
        db.session,
        data,
        filename=filename,
        settings=code_settings(),
        now=now(),
        release=db.session.rollback,
        policy_statuses=policy_statuses(),
    )
    db.session.rollback()
    progress.update(
        report.rows,
        report.rows,
        str(
            CHECK_ACCEPTED(rows=report.rows)
            if report.ok
            else CHECK_REFUSED(problems=len(report.errors))
        ),
    )
    return {
        "accepted": report.ok,
        **report.tallies(),
        "page": f"{ADMIN_PREFIX}/import/checked/{progress.run_id}",
        "details": {
            "filename": filename,
            "token": token if report.ok else None,
            "problems": len(report.errors),
            "policyholders_created": report.policyholders_created,
            "policies_created": report.policies_created,
            "errors": [s.as_dict() for s in report.error_summary()],
            "notes": [s.as_dict() for s in report.note_summary()],
            # What the import will do, row by row, with rupiah totals; and the first errors
            # one by one with the value that was refused.
            "preview": report.preview.as_dict(),
            "error_rows": [
                {
                    "line": e.line,
                    "field": e.field,
                    "message": e.message.as_dict(),
                    "value": shown_value(e.value),
                }
                for e in report.errors[:ERRORS_SHOWN]
            ],
        },
    }


@bp.route("/import/template.<file_format>")
def import_template(file_format: str) -> Response:
    """A file to start from: the columns the import reads and two example rows."""
    if file_format not in spreadsheets.FORMATS:
        abort(404)
    data, content_type = spreadsheets.render(template_table(), file_format)
    return Response(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="bills-template.{file_format}"'},
    )


@bp.route("/import/checked/<run_id>")
@write_required
def import_checked(run_id: str) -> Any:
    """What the check found, and the confirmation (for the staff member who uploaded)."""
    run = db.get_or_404(JobRun, run_id)
    result = job_records.run_result(run)
    if run.task_name != "bills.import_check" or run.started_by != staff().id or not result:
        abort(404)
    details = result["details"]
    confirm = ImportConfirmForm(formdata=None, token=details["token"]) if details["token"] else None
    return render_template(
        "admin/import_report.html", report=result, details=details,
        filename=details["filename"], confirm_form=confirm, outcomes=list(Outcome),
    )  # fmt: skip


@bp.route("/import/confirm", methods=["POST"])
@write_required
def import_confirm() -> Response | str:
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return error_page(400, back=url_for("admin.import_upload"))
    token = form.token.data or ""
    moment = now()
    run_id = (
        staged_imports.take(db.session, token=token, staff_id=staff().id, now=moment)
        if TOKEN.match(token)
        else None
    )
    if run_id is None:
        return error_page(
            404,
            _("This upload is no longer waiting to be imported; upload the file again."),
            back=url_for("admin.import_upload"),
        )
    filename = db.session.get(ImportRun, run_id).filename  # type: ignore[union-attr]
    db.session.commit()
    # Applying takes minutes for a big file: the job consumer does it, the page follows it.
    job_id = jobs.start(
        "bills.import_apply",
        run_id,
        title=_("Import %(file)s", file=filename),
        started_by=staff().id,
    )
    return redirect(url_for("admin.job_run", run_id=job_id))


@jobs.tracked("bills.import_apply")
def apply_import_job(progress: Progress, run_id: int) -> dict[str, Any]:
    """Apply a checked upload in committed chunks, reporting progress to its job page."""

    # The English sentence, not gettext: the job runs in the consumer, outside any request
    # (and language); the job's page reads it back in the reader's language (say_job).
    def report_progress(done: int, total: int) -> None:
        progress.update(done, total, str(APPLYING(done=done, total=total)))

    report = apply_import(
        db.session,
        run_id,
        now=now(),
        settings=code_settings(),
        policy_statuses=policy_statuses(),
        commit=db.session.commit,
        progress=report_progress,
        clock=now,
    )
    page = f"{ADMIN_PREFIX}/imports/{run_id}"  # the run's page (no request here for url_for)
    if not report.ok:
        progress.update(
            0,
            report.rows,
            str(NO_LONGER_FITS(problems=len(report.errors))),
        )
        return {"accepted": False, "problems": len(report.errors), "page": page}
    progress.update(
        report.rows,
        report.rows,
        str(
            IMPORTED(
                rows=report.rows,
                file=report.filename,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
                skipped=report.skipped,
                conflicts=report.conflicts,
            )
        ),
    )
    return {
        "accepted": True,
        **report.tallies(),
        "page": page,
    }


@bp.route("/imports")
def import_runs() -> str:
    return render_template(
        "admin/import_runs.html", runs=import_history.runs(db.session, page_arg())
    )


@bp.route("/imports/<int:run_id>")
def import_run(run_id: int) -> str:
    run = db.get_or_404(ImportRun, run_id)
    return render_template(
        "admin/import_run.html",
        run=run,
        summaries=import_history.summaries(run),
        conflicts=import_history.conflicts(db.session, run_id, page_arg()),
    )


@bp.route("/imports/conflicts")
def import_conflicts() -> str:
    return render_template(
        "admin/import_conflicts.html",
        conflicts=import_history.all_conflicts(db.session, page_arg()),
    )
