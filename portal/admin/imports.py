"""Bill import through the browser: upload, see every row's problems, confirm.

The check is the import itself (``import_bills``) run inside a transaction that is rolled
back; confirming runs it again for real, all or nothing. Between the two steps the file waits
in the database under a random token, for the staff member who sent it only, so any app
server can take the confirmation.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import now, staff, write_required
from portal.admin.forms import ImportConfirmForm, ImportUploadForm
from portal.admin.routes import error_page
from portal.extensions import db
from portal.services import audit, staged_imports
from portal.services.bill_import import ImportRejected, ImportReport, import_bills
from portal.web import code_settings

TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _dry_run(text: str) -> tuple[ImportReport, bool]:
    """The import's own checks and counts, with nothing kept."""
    try:
        report = import_bills(db.session, text, settings=code_settings(), now=now())
        accepted = True
    except ImportRejected as exc:
        report, accepted = exc.report, False
    finally:
        db.session.rollback()
    return report, accepted


@bp.route("/import", methods=["GET", "POST"])
@write_required
def import_upload() -> Any:
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.csv_file.data
        filename = str(upload.filename or "bills.csv")[:200]
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        if text is None or "\x00" in text:
            form.csv_file.errors = [_("The file is not UTF-8 text; save it as CSV UTF-8.")]
        else:
            report, accepted = _dry_run(text)
            token = None
            if accepted:
                token = staged_imports.stage(
                    db.session, text=text, filename=filename, staff_id=staff().id, now=now()
                )
                db.session.commit()
            confirm = ImportConfirmForm(formdata=None, token=token) if token else None
            return render_template(
                "admin/import_report.html",
                report=report,
                accepted=accepted,
                filename=filename,
                confirm_form=confirm,
            )
    return render_template("admin/import.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@write_required
def import_confirm() -> Response | str:
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return error_page(400, back=url_for("admin.import_upload"))
    token = form.token.data or ""
    moment = now()
    staged = (
        staged_imports.take(db.session, token=token, staff_id=staff().id, now=moment)
        if TOKEN.match(token)
        else None
    )
    if staged is None:
        return error_page(
            404,
            _("This upload is no longer waiting to be imported; upload the file again."),
            back=url_for("admin.import_upload"),
        )
    text, filename = staged.text, staged.filename
    try:
        report = import_bills(db.session, text, settings=code_settings(), now=moment)
    except ImportRejected as exc:
        db.session.rollback()
        return render_template(
            "admin/import_report.html",
            report=exc.report,
            accepted=False,
            filename=filename,
            confirm_form=None,
        )
    audit.record(
        db.session,
        actor=staff(),
        action="bills.import",
        entity="import",
        entity_id=None,
        before=None,
        after={
            "filename": filename,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "rows": report.rows,
            "bills_created": report.bills_created,
            "bills_updated": report.bills_updated,
            "policyholders_created": report.policyholders_created,
            "policies_created": report.policies_created,
        },
        now=moment,
    )
    db.session.commit()  # the import, its audit row and the staged file's removal, at once
    flash(
        _(
            "Imported %(rows)d rows from %(file)s: %(created)d bills created, %(updated)d "
            "updated, %(holders)d new policyholders, %(policies)d new policies.",
            rows=report.rows,
            file=filename,
            created=report.bills_created,
            updated=report.bills_updated,
            holders=report.policyholders_created,
            policies=report.policies_created,
        ),
        "success",
    )
    return redirect(url_for("admin.bills"))
