"""The audit log: every change by staff and every login, filtered by who, what and when, each
entry shown as the fields it changed; downloads as CSV or XLSX."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.admin import bp
from portal.admin.common import FIRST_DAY, LAST_DAY, error_page, now, page_arg
from portal.extensions import db
from portal.models import AuditEntry
from portal.services.accounts import audit
from portal.services.billing.money import format_rupiah
from portal.services.billing.payment_codes import WIB
from portal.services.reporting import spreadsheets

ENTITY_NAMES = {
    "bill": _l("Bill"),
    "policy": _l("Policy"),
    "policyholder": _l("Policyholder"),
    "payment_code": _l("Payment code"),
    "staff": _l("Staff user"),
    "payment_exception": _l("Exception"),
    "receipt_defaults": _l("Receipt defaults"),
    "import": _l("Bill import"),
}
SINGLE_RECORDS = frozenset({"receipt_defaults"})  # one row: no number to show
MONEY_FIELDS = frozenset({"amount"})  # whole rupiah, shown as staff read money


def _within_days(form: FlaskForm, field: Any) -> None:
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(
            _("Give a day between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
              last=LAST_DAY.isoformat())
        )  # fmt: skip


class AuditFilterForm(FlaskForm):
    """The filters, read from the query string (a GET form: nothing to protect with CSRF)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), validators=[Optional(), Length(max=400)])
    action = SelectField(_l("What"), choices=[], validate_choice=False)
    entity = SelectField(_l("Kind of record"), choices=[], validate_choice=False)
    record = StringField(_l("Record"), validators=[Optional(), Length(max=200)], name="q")
    start = DateField(_l("From (WIB)"), validators=[Optional(), _within_days], name="from")
    end = DateField(_l("To"), validators=[Optional(), _within_days], name="to")
    entity_id = HiddenField(validators=[Optional(), Length(max=64)])

    def validate_end(self, field: Any) -> None:
        if field.data is not None and self.start.data is not None and field.data < self.start.data:
            raise ValidationError(_("The last day is before the first."))

    def filters(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            actor=self.actor.data or "",
            action=self.action.data or "",
            entity=self.entity.data or "",
            entity_id=(self.entity_id.data or "").strip(),
            record=self.record.data or "",
            start=self.start.data,
            end=self.end.data,
        )


def entity_name(entity: str) -> str:
    return str(ENTITY_NAMES.get(entity, entity))


def record_name(entry: AuditEntry) -> str:
    """The record as people know it; for rows from before labels: "Bill #12"."""
    if entry.entity_label:
        return entry.entity_label
    name = entity_name(entry.entity)
    if entry.entity_id and entry.entity not in SINGLE_RECORDS:
        return f"{name} #{entry.entity_id}"
    return name


def shown_value(field: str, value: str | None) -> str:
    if value is None:
        return "-"
    if field in MONEY_FIELDS and value.isdigit():
        return format_rupiah(int(value))
    return value


RECORD_PAGES = {
    "bill": ("admin.bill", "bill_id"),
    "policy": ("admin.policy", "policy_id"),
    "policyholder": ("admin.policyholder", "holder_id"),
    "payment_exception": ("admin.exception", "exception_id"),
}


def record_link(entry: AuditEntry) -> str | None:
    """The record's page in the back office, where it has one (a payment code: its bill's)."""
    if entry.entity == "receipt_defaults":
        return url_for("admin.receipt")
    entity, key = entry.entity, entry.entity_id
    if entity == "payment_code":
        entity, key = "bill", audit.snapshot_value(entry, "bill_id")
    if entity not in RECORD_PAGES or not str(key or "").isdigit():
        return None
    endpoint, argument = RECORD_PAGES[entity]
    values: dict[str, Any] = {argument: int(str(key))}
    return url_for(endpoint, **values)


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    any_choice = ("", _("any"))
    form.action.choices = [any_choice, *((a, a) for a in audit.actions(db.session))]
    form.entity.choices = [
        any_choice, *((e, entity_name(e)) for e in audit.entities(db.session))
    ]  # fmt: skip
    return form


def _page(form: AuditFilterForm, page: Any, status: int = 200) -> tuple[str, int]:
    body = render_template(
        "admin/audit.html",
        form=form,
        page=page,
        diff=audit.diff,
        record_name=record_name,
        record_link=record_link,
    )
    return body, status


@bp.route("/audit")
def audit_log() -> Any:
    form = _filter_form()
    file_format = request.args.get("format", "")
    if file_format and file_format not in spreadsheets.FORMATS:
        return error_page(400, _("Download as CSV or XLSX."), back=url_for("admin.audit_log"))
    if not form.validate():
        return _page(form, None, 400)
    filters = form.filters()
    if file_format:
        table = audit.audit_table(audit.all_entries(db.session, filters))
        body, content_type = spreadsheets.render(table, file_format)
        filename = f"audit-{now().astimezone(WIB):%Y%m%d}.{file_format}"
        return Response(
            body,
            content_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return _page(form, audit.entries(db.session, filters, page_arg()))


@bp.route("/audit/<int:entry_id>")
def audit_entry(entry_id: int) -> str:
    entry = db.get_or_404(AuditEntry, entry_id)
    return render_template(
        "admin/audit_entry.html",
        entry=entry,
        diff=audit.diff(entry),
        record=record_name(entry),
        link=record_link(entry),
        entity=entity_name(entry.entity),
        shown=shown_value,
    )
