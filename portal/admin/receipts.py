"""The default till info and receipt footer, with a preview exactly as the till prints it."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from portal.admin import bp
from portal.admin.common import effective_defaults, footer_preview, now, staff, submit_form
from portal.admin.forms import ReceiptDefaultsForm
from portal.extensions import db
from portal.services.billing import receipt_defaults


@bp.route("/receipt", methods=["GET", "POST"])
def receipt() -> Any:
    """Viewers see the defaults; admins edit them (POSTs are refused to viewers by the guard)."""
    current = effective_defaults()
    form = ReceiptDefaultsForm()
    if request.method == "GET":
        form.info.data = current.info if current.info_edited else ""
        form.footer_message.data = current.footer_message if current.footer_edited else ""
    previewing = request.form.get("action") == "preview"
    if not previewing:
        saved = submit_form(
            form,
            lambda: receipt_defaults.update(
                db.session,
                actor=staff(),
                info=form.info.data or "",
                footer_message=form.footer_message.data or "",
                now=now(),
            ),
            lambda _result: (
                _("Receipt defaults saved; the next inquiry answers with them."),
                url_for("admin.receipt"),
            ),
        )
        if saved is not None:
            return saved
    shown_footer = form.footer_message.data or current_app.config["DEFAULT_FOOTER_MESSAGE"]
    return render_template(
        "admin/receipt.html",
        form=form,
        current=current,
        configured_info=current_app.config["DEFAULT_INFO"],
        configured_footer=current_app.config["DEFAULT_FOOTER_MESSAGE"],
        preview=footer_preview(shown_footer),
        previewing=previewing,
    )
