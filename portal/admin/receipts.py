"""The default till info and receipt footer, with a preview exactly as the till prints it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.admin import bp
from portal.admin.common import now, show_field_errors, staff
from portal.admin.forms import ReceiptDefaultsForm
from portal.extensions import db
from portal.services.billing import receipt_defaults
from portal.services.billing.receipt import FOOTER_MAX, LINE_WIDTH, ReceiptTextError, layout_footer
from portal.services.billing.validation import InvalidFields


@dataclass(frozen=True, slots=True)
class FooterPreview:
    """What the page shows under a footer field; rendered on the server, redrawn by admin.js."""

    lines: tuple[str, ...]
    length: int
    error: str | None
    split_words_after: tuple[int, ...]
    width: int = LINE_WIDTH
    maximum: int = FOOTER_MAX


def footer_preview(text: str) -> FooterPreview:
    try:
        footer = layout_footer(text)
    except ReceiptTextError as exc:
        return FooterPreview(lines=(), length=len(text), error=str(exc), split_words_after=())
    return FooterPreview(
        lines=footer.lines, length=len(text), error=None, split_words_after=footer.split_words_after
    )


def effective_defaults() -> receipt_defaults.EffectiveDefaults:
    return receipt_defaults.effective(
        db.session,
        configured_info=current_app.config["DEFAULT_INFO"],
        configured_footer=current_app.config["DEFAULT_FOOTER_MESSAGE"],
    )


@bp.route("/receipt", methods=["GET", "POST"])
def receipt() -> Any:
    """Viewers see the defaults; admins edit them (POSTs are refused to viewers by the guard)."""
    current = effective_defaults()
    form = ReceiptDefaultsForm()
    if request.method == "GET":
        form.info.data = current.info if current.info_edited else ""
        form.footer_message.data = current.footer_message if current.footer_edited else ""
    previewing = request.form.get("action") == "preview"
    if not previewing and form.validate_on_submit():
        try:
            receipt_defaults.update(
                db.session,
                actor=staff(),
                info=form.info.data or "",
                footer_message=form.footer_message.data or "",
                now=now(),
            )
        except InvalidFields as exc:
            db.session.rollback()
            show_field_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Receipt defaults saved; the next inquiry answers with them."), "success")
            return redirect(url_for("admin.receipt"))
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
