"""Downloads for the core system: bills with their live codes, payments of a period, and the
payments feed (the same files as ``flask bills export`` and ``flask payments export``).

Every member of staff may download bills and a period's payments. Taking the feed's new
payments moves the feed (they will not be in the next ``--since-last`` run), so it is a POST
and admins only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import date_arg, now, write_required
from portal.admin.forms import ActionForm
from portal.extensions import db
from portal.services.billing import exports
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.spreadsheets import FORMATS, Table, render


def _format(source: Any) -> str:
    chosen = str(source.get("format", "csv"))
    return chosen if chosen in FORMATS else "csv"


def _download(table: Table, kind: str, file_format: str) -> Response:
    data, content_type = render(table, file_format)
    name = exports.file_name(kind, now(), file_format)
    return Response(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/exports")
def exports_page() -> str:
    today = now().astimezone(WIB).date()
    feed = exports.feed_status(db.session)
    pending = exports.pending_count(db.session)
    return render_template(
        "admin/exports.html",
        states=exports.STATES,
        formats=FORMATS,
        start=(today - timedelta(days=1)).isoformat(),
        end=today.isoformat(),
        feed=feed,
        pending=pending,
        feed_form=ActionForm(),
    )


@bp.route("/exports/bills")
def export_bills() -> Response:
    states = [s for s in request.args.getlist("state") if s in exports.STATES]
    table = exports.bills_table(db.session, states)
    return _download(table, "bills", _format(request.args))


@bp.route("/exports/payments")
def export_payments() -> Response:
    start, end = date_arg("from"), date_arg("to")
    if start is None or end is None or end < start or end - start > timedelta(days=366):
        flash(_("Give a first and a last day (at most a year apart)."), "error")
        return redirect(url_for("admin.exports_page"))
    return _download(
        exports.payments_between(db.session, start, end).table, "payments", _format(request.args)
    )


@bp.route("/exports/payments/new", methods=["POST"])
@write_required
def export_new_payments() -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired; send it again."), "error")
        return redirect(url_for("admin.exports_page"))
    export = exports.payments_since_last(db.session, now=now())
    response = _download(export.table, "payments", _format(request.form))
    db.session.commit()
    return response
