"""Looking at what happened: DOKU traffic, the exceptions queue, reconciliation (the audit
log is in ``audit_log``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.admin import bp, exception_guide
from portal.admin.common import (
    date_arg,
    error_page,
    now,
    page_arg,
    say,
    sort_arg,
    sort_links,
    staff,
)
from portal.admin.forms import ResolveForm
from portal.extensions import db
from portal.models import (
    AuditEntry,
    ExceptionKind,
    Inquiry,
    PaymentException,
    ReceivedNotification,
)
from portal.services.billing.payment_codes import WIB
from portal.services.reporting import spreadsheets
from portal.services.reporting.reconciliation import (
    MoneyState,
    payments_report,
    report_filename,
    report_table,
)
from portal.services.sorting import SortColumns
from portal.services.traffic import cases
from portal.services.traffic import history as traffic


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# DOKU traffic.


def _traffic_filter(columns: SortColumns) -> traffic.TrafficFilter:
    return traffic.TrafficFilter(
        start=date_arg("from"),
        end=date_arg("to"),
        payment_code=request.args.get("code", "").strip(),
        status=request.args.get("status", "").strip(),
        verdict=request.args.get("verdict", "").strip(),
        sort=sort_arg(columns),
    )


def _sorting(columns: SortColumns, filters: traffic.TrafficFilter) -> dict[str, Any]:
    """What a traffic list's headers and filter form need to show and keep its order."""
    sort = filters.sort or columns.default_sort
    return {"sort": sort, "sort_links": sort_links(columns, sort)}


@bp.route("/traffic/inquiries")
def inquiries() -> str:
    filters = _traffic_filter(traffic.INQUIRY_SORTS)
    listing = traffic.inquiries(db.session, filters, page_arg())
    return render_template(
        "admin/inquiries.html",
        listing=listing,
        page=listing.page,
        filters=filters,
        verdicts=traffic.inquiry_verdicts(db.session),
        **_sorting(traffic.INQUIRY_SORTS, filters),
    )


_TRAFFIC_EXPORTS = {
    "inquiries": (traffic.inquiry_table, traffic.INQUIRY_SORTS),
    "notifications": (traffic.notification_table, traffic.NOTIFICATION_SORTS),
}


@bp.route("/traffic/<kind>/export.<file_format>")
def traffic_download(kind: str, file_format: str) -> Response:
    """An inquiry or notification list as shown (its filters and order, every page) as CSV or
    XLSX."""
    if kind not in _TRAFFIC_EXPORTS or file_format not in spreadsheets.FORMATS:
        abort(404)
    build, columns = _TRAFFIC_EXPORTS[kind]
    table = build(db.session, _traffic_filter(columns))
    db.session.rollback()
    data, content_type = spreadsheets.render(table, file_format)
    stamp = now().astimezone(WIB).strftime("%Y%m%d-%H%M")
    return Response(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.{file_format}"'},
    )


@bp.route("/traffic/inquiries/<int:inquiry_id>")
def inquiry(inquiry_id: int) -> str:
    item = db.get_or_404(Inquiry, inquiry_id)
    return render_template(
        "admin/inquiry.html",
        item=item,
        headers=traffic.inquiry_headers(item),
        request_pretty=traffic.pretty_json(item.request_body),
        response_pretty=traffic.pretty_json(item.response_body),
    )


@bp.route("/traffic/notifications")
def notifications() -> str:
    filters = _traffic_filter(traffic.NOTIFICATION_SORTS)
    listing = traffic.notifications(db.session, filters, page_arg())
    return render_template(
        "admin/notifications.html",
        listing=listing,
        page=listing.page,
        filters=filters,
        verdicts=traffic.notification_verdicts(db.session),
        **_sorting(traffic.NOTIFICATION_SORTS, filters),
    )


@bp.route("/traffic/notifications/<int:notification_id>")
def notification(notification_id: int) -> str:
    item = db.get_or_404(ReceivedNotification, notification_id)
    return render_template(
        "admin/notification.html",
        item=item,
        bill_id=traffic.bill_id_for_code(db.session, item.payment_code),
        headers=traffic.notification_headers(item),
        request_pretty=traffic.pretty_json(item.body),
        response_pretty=traffic.pretty_json(item.response_body),
    )


# Exceptions.


@bp.route("/exceptions")
def exceptions() -> str:
    status = request.args.get("status", "open")
    if status not in ("open", "resolved", "all"):
        status = "open"
    kind = request.args.get("kind", "")
    if kind not in {k.value for k in ExceptionKind}:
        kind = ""
    return render_template(
        "admin/exceptions.html",
        page=cases.exceptions(db.session, status=status, kind=kind, page=page_arg()),
        status=status,
        kind=kind,
        kinds=list(ExceptionKind),
        **exception_guide.texts(),
    )


def _resolve_form(item: PaymentException) -> ResolveForm:
    form = ResolveForm()
    labels = exception_guide.RESOLUTION_LABELS
    form.outcome.choices = [(o.value, str(labels[o])) for o in cases.outcomes(item)]
    if not form.is_submitted() and len(form.outcome.choices) == 1:
        form.outcome.data = form.outcome.choices[0][0]
    return form


def _exception_page(item: PaymentException, form: ResolveForm, status: int = 200) -> Any:
    deliveries = db.session.scalars(
        db.select(ReceivedNotification)
        .where(ReceivedNotification.exception_id == item.id)
        .order_by(ReceivedNotification.received_at)
    ).all()
    history = db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.entity == "payment_exception", AuditEntry.entity_id == str(item.id))
        .order_by(AuditEntry.at.desc())
    ).all()
    body = render_template(
        "admin/exception.html",
        item=item,
        form=form,
        deliveries=deliveries,
        history=history,
        context=cases.context(db.session, item),
        **exception_guide.texts(),
    )
    return body, status


@bp.route("/exceptions/<int:exception_id>")
def exception(exception_id: int) -> Any:
    item = db.get_or_404(PaymentException, exception_id)
    return _exception_page(item, _resolve_form(item))


@bp.route("/exceptions/<int:exception_id>/resolve", methods=["POST"])
def resolve_exception(exception_id: int) -> Any:
    item = db.get_or_404(PaymentException, exception_id)
    form = _resolve_form(item)
    if not form.validate_on_submit():
        return _exception_page(item, form, 400)
    try:
        cases.resolve(
            db.session,
            item,
            actor=staff(),
            note=form.note.data or "",
            outcome=form.outcome.data or "",
            now=now(),
        )
    except cases.AlreadyResolved as exc:
        db.session.rollback()
        return error_page(409, say(exc), back=url_for("admin.exception", exception_id=item.id))
    except cases.ExceptionError as exc:
        db.session.rollback()
        form.form_errors.append(say(exc))
        return _exception_page(item, form, 400)
    db.session.commit()
    flash(_("Exception #%(id)d resolved.", id=item.id), "success")
    return redirect(url_for("admin.exceptions"))


# Reconciliation.


def _report_range() -> tuple[date, date]:
    today = now().astimezone(WIB).date()
    start = date_arg("from") or today.replace(day=1)
    end = date_arg("to") or today
    return start, end


@bp.route("/reconciliation")
def reconciliation() -> Any:
    start, end = _report_range()
    if end < start:
        flash(_("The last day is before the first; showing the first day only."), "error")
        end = start
    if (end - start) > timedelta(days=366):
        flash(_("At most a year at a time; showing the first year."), "error")
        end = start + timedelta(days=366)
    report = payments_report(db.session, start, end)
    file_format = request.args.get("format", "")
    if file_format in spreadsheets.FORMATS:
        content, content_type = spreadsheets.render(report_table(report), file_format)
        return Response(
            content,
            content_type=content_type,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{report_filename(report, file_format)}"'
                )
            },
        )
    return render_template(
        "admin/reconciliation.html",
        report=report,
        start=start,
        end=end,
        states=list(MoneyState),
        **exception_guide.texts(),
    )
