"""Policyholders, policies and bills: search, view, create, edit; cancel a bill, extend or
replace its payment code; send a policyholder's activation link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypedDict

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import (
    effective_defaults,
    error_page,
    footer_preview,
    now,
    page_arg,
    required,
    say,
    staff,
    submit_action,
    submit_form,
    write_required,
)
from portal.admin.forms import (
    ActionForm,
    BillEditForm,
    BillForm,
    CancelForm,
    ExpiryForm,
    PolicyEditForm,
    PolicyForm,
    PolicyholderForm,
    ReissueForm,
)
from portal.extensions import db
from portal.jobs.mail import send_activation_link
from portal.models import AuditEntry, Bill, Policy, Policyholder
from portal.services.accounts import audit
from portal.services.billing import bill_list, changes
from portal.services.billing.changes import BillLocked
from portal.services.billing.payability import PayabilityRules, Standing, standing
from portal.services.billing.payment_codes import WIB, end_of_day_wib
from portal.services.billing.record import bill_record, open_exception_counts
from portal.services.billing.statements import bill_refusal
from portal.services.reporting import spreadsheets
from portal.web import code_settings


def payability_rules() -> PayabilityRules:
    return PayabilityRules.from_config(current_app.config)


def _offer_statuses(form: PolicyForm, current: str | None = None) -> PayabilityRules:
    """The status choice: the configured vocabulary (and a stored stray, so it shows)."""
    rules = payability_rules()
    statuses = list(rules.policy_statuses)
    if current is not None and current not in statuses:
        statuses.append(current)
    form.policy_status.choices = [(s, s) for s in statuses]
    return rules


def _standings(bills: Sequence[Bill]) -> dict[int, Standing]:
    """Each bill's standing by the payability rule (bills loaded with policy and codes)."""
    moment, rules = now(), payability_rules()
    return {b.id: standing(bill_refusal(b, now=moment, rules=rules)) for b in bills}


def _history(entity: str, entity_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(20)
        )
    )


# Bills.


# What the bill list says about a filter it could not read (services/billing/bill_list).
PROBLEM_TEXTS = {
    "not a day written YYYY-MM-DD": _l("not a day written YYYY-MM-DD"),
    "outside 2000-01-01 to 2099-12-31": _l("outside 2000-01-01 to 2099-12-31"),
    "not an amount in whole rupiah": _l("not an amount in whole rupiah (e.g. 150.000)"),
    "the largest amount is below the smallest": _l("the largest amount is below the smallest"),
    "not a state": _l("not a state"),
    "not a column to sort by": _l("not a column to sort by"),
}


@bp.route("/bills")
def bills() -> tuple[str, int]:
    """Filters combine; a filter that cannot be read is named with its value (400) and left
    out, the others still apply."""
    parsed = bill_list.parse_query(request.args)
    query = parsed.query
    listing = bill_list.bill_page(
        db.session, query, now=now(), rules=payability_rules(), page=page_arg()
    )
    lines = listing.page.items
    problems = {
        p.argument: (str(PROBLEM_TEXTS.get(p.message, p.message)), p.value) for p in parsed.problems
    }
    body = render_template(
        "admin/bills.html",
        listing=listing,
        page=listing.page,
        query=query,
        args=query.arguments(),
        raw=request.args,
        problems=problems,
        states=list(Standing),
        sorts=bill_list.SORTS,
        exception_counts=open_exception_counts(db.session, [line.bill.id for line in lines]),
    )
    return body, 400 if problems else 200


@bp.route("/bills/export.<file_format>")
def bills_download(file_format: str) -> Response:
    """The list as shown (its filters and order, every page) as CSV or XLSX."""
    if file_format not in spreadsheets.FORMATS:
        abort(404)
    parsed = bill_list.parse_query(request.args)
    if parsed.problems:
        shown: dict[str, Any] = request.args.to_dict()
        return error_page(
            400,
            "; ".join(
                f"{p.argument}: {PROBLEM_TEXTS.get(p.message, p.message)} ({p.value})"
                for p in parsed.problems
            ),
            back=url_for("admin.bills", **shown),
        )
    moment = now()
    table = bill_list.bill_table(db.session, parsed.query, now=moment, rules=payability_rules())
    db.session.rollback()
    data, content_type = spreadsheets.render(table, file_format)
    filename = bill_list.export_filename(parsed.query, moment, file_format)
    return Response(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/bills/<int:bill_id>")
def bill(bill_id: int) -> str:
    record = bill_record(db.session, bill_id, now=now(), rules=payability_rules())
    if record is None:
        abort(404)
    item = record.bill
    return render_template(
        "admin/bill.html",
        bill=item,
        record=record,
        payment=record.payment,
        inquiries=record.inquiries,
        history=_history("bill", item.id),
        cancel_form=CancelForm(),
        expiry_form=ExpiryForm(),
        reissue_form=ReissueForm(),
        preview=footer_preview(item.footer_message or ""),
    )


def _bill_page(item: Bill) -> str:
    return url_for("admin.bill", bill_id=item.id)


@bp.route("/bills/<int:bill_id>/edit", methods=["GET", "POST"])
@write_required
def edit_bill(bill_id: int) -> Any:
    item = db.get_or_404(Bill, bill_id)
    try:
        changes.require_unpaid(item, "edited")
    except BillLocked as exc:
        return error_page(409, say(exc), back=_bill_page(item))
    form = BillEditForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.amount.data = str(item.amount)
        form.info.data = item.info or ""
        form.footer_message.data = item.footer_message or ""
    if request.form.get("action") != "preview":
        saved = submit_form(
            form,
            lambda: changes.update_bill(
                db.session, item, actor=staff(), now=now(), **_bill_fields(form)
            ),
            lambda bill: (
                _("Bill %(invoice)s saved.", invoice=bill.invoice_number),
                _bill_page(bill),
            ),
            back=_bill_page(item),
        )
        if saved is not None:
            return saved
    return _bill_form(form, bill=item, policy=item.policy)


class _BillFields(TypedDict):
    amount: int
    due_date: date
    info: str
    footer_message: str


def _bill_fields(form: BillEditForm) -> _BillFields:
    """What a new bill and an edited one share, as the form read it (validated)."""
    return _BillFields(
        amount=int(form.amount.data or 0),
        due_date=required(form.due_date.data),
        info=form.info.data or "",
        footer_message=form.footer_message.data or "",
    )


def _bill_form(form: BillEditForm, *, bill: Bill | None, policy: Policy) -> str:
    default_footer = effective_defaults().footer_message
    return render_template(
        "admin/bill_form.html",
        form=form,
        bill=bill,
        policy=policy,
        preview=footer_preview(form.footer_message.data or default_footer),
        default_footer=default_footer,
    )


@bp.route("/policies/<int:policy_id>/bills/new", methods=["GET", "POST"])
@write_required
def new_bill(policy_id: int) -> Any:
    policy = db.get_or_404(Policy, policy_id)
    form = BillForm()
    if request.form.get("action") != "preview":
        expires = form.expires_on.data
        saved = submit_form(
            form,
            lambda: changes.create_bill(
                db.session,
                policy,
                actor=staff(),
                invoice_number=form.invoice_number.data or "",
                expires_at=end_of_day_wib(expires) if expires else None,
                settings=code_settings(),
                now=now(),
                **_bill_fields(form),
            ),
            lambda bill: (
                _("Bill %(invoice)s created.", invoice=bill.invoice_number),
                _bill_page(bill),
            ),
        )
        if saved is not None:
            return saved
    return _bill_form(form, bill=None, policy=policy)


@bp.route("/bills/<int:bill_id>/cancel", methods=["POST"])
@write_required
def cancel_bill(bill_id: int) -> Response:
    item = db.get_or_404(Bill, bill_id)
    form = CancelForm()
    return submit_action(
        form,
        lambda: changes.cancel_bill(
            db.session, item, actor=staff(), note=form.note.data or "", now=now()
        ),
        lambda bill: (
            _(
                "Bill %(invoice)s is cancelled; the till now declines its code.",
                invoice=bill.invoice_number,
            ),
            _bill_page(bill),
        ),
        back=_bill_page(item),
    )


@bp.route("/bills/<int:bill_id>/extend", methods=["POST"])
@write_required
def extend_code(bill_id: int) -> Response:
    item = db.get_or_404(Bill, bill_id)
    form = ExpiryForm()
    return submit_action(
        form,
        lambda: changes.extend_code(
            db.session,
            item,
            actor=staff(),
            expires_at=end_of_day_wib(required(form.expires_on.data)),
            now=now(),
        ),
        lambda code: (
            _(
                "Payment code %(code)s is valid until %(until)s WIB.",
                code=code.code,
                until=code.expires_at.astimezone(WIB).strftime("%Y-%m-%d %H:%M"),
            ),
            _bill_page(item),
        ),
        back=_bill_page(item),
        invalid_status=409,
    )


@bp.route("/bills/<int:bill_id>/reissue", methods=["POST"])
@write_required
def reissue_code(bill_id: int) -> Response:
    item = db.get_or_404(Bill, bill_id)
    form = ReissueForm()
    return submit_action(
        form,
        lambda: changes.reissue_code(
            db.session,
            item,
            actor=staff(),
            expires_at=end_of_day_wib(form.expires_on.data) if form.expires_on.data else None,
            settings=code_settings(),
            now=now(),
        ),
        lambda code: (
            _("New payment code %(code)s issued; the old one no longer works.", code=code.code),
            _bill_page(item),
        ),
        back=_bill_page(item),
        invalid_status=409,
    )


# Policyholders.


@bp.route("/policyholders")
def policyholders() -> str:
    query = request.args.get("q", "")
    found = changes.search_policyholders(db.session, query, page=page_arg())
    return render_template("admin/policyholders.html", page=found, query=query)


@bp.route("/policyholders/<int:holder_id>")
def policyholder(holder_id: int) -> str:
    holder = db.get_or_404(Policyholder, holder_id)
    return render_template(
        "admin/policyholder.html",
        holder=holder,
        history=_history("policyholder", holder.id),
        action_form=ActionForm(),
    )


@bp.route("/policyholders/new", methods=["GET", "POST"])
@write_required
def new_policyholder() -> Any:
    return _policyholder_form(None)


@bp.route("/policyholders/<int:holder_id>/edit", methods=["GET", "POST"])
@write_required
def edit_policyholder(holder_id: int) -> Any:
    return _policyholder_form(db.get_or_404(Policyholder, holder_id))


def _policyholder_form(holder: Policyholder | None) -> Any:
    """The policyholder form: a new policyholder, or changes to ``holder``."""
    form = PolicyholderForm()
    if holder is not None and request.method == "GET":
        form.customer_name.data, form.customer_email.data = holder.name, holder.email

    def change() -> Policyholder:
        name, email = form.customer_name.data or "", form.customer_email.data or ""
        if holder is None:
            return changes.create_policyholder(
                db.session, actor=staff(), name=name, email=email, now=now()
            )
        return changes.update_policyholder(
            db.session, holder, actor=staff(), name=name, email=email, now=now()
        )

    def done(saved: Policyholder) -> tuple[str, str]:
        message = (
            "Policyholder %(name)s created." if holder is None else "Policyholder %(name)s saved."
        )
        return _(message, name=saved.name), url_for("admin.policyholder", holder_id=saved.id)

    response = submit_form(form, change, done)
    return response or render_template("admin/policyholder_form.html", form=form, holder=holder)


@bp.route("/policyholders/<int:holder_id>/activation", methods=["POST"])
@write_required
def send_activation(holder_id: int) -> Any:
    holder = db.get_or_404(Policyholder, holder_id)
    back = url_for("admin.policyholder", holder_id=holder.id)
    if not ActionForm().validate_on_submit():
        return error_page(400, back=back)
    if holder.activated_at is not None:
        flash(
            _(
                "%(email)s has activated the account already; they can reset their password "
                "from the login page.",
                email=holder.email,
            ),
            "error",
        )
        return redirect(back)
    holder_id, email = holder.id, holder.email
    audit.record(
        db.session,
        actor=staff(),
        action="policyholder.send_activation",
        entity="policyholder",
        entity_id=holder_id,
        before=None,
        after={"email": email},
        now=now(),
    )
    db.session.commit()  # before enqueueing: the job (another process) reads committed rows
    try:
        send_activation_link.enqueue(holder_id)
    except Exception as exc:
        flash(_("The email could not be queued: %(error)s", error=str(exc)), "error")
        return redirect(back)
    flash(_("Activation link queued for %(email)s.", email=email), "success")
    return redirect(back)


# Policies.


@bp.route("/policies")
def policies() -> str:
    query = request.args.get("q", "")
    found = changes.search_policies(db.session, query, page=page_arg())
    return render_template("admin/policies.html", page=found, query=query)


@bp.route("/policies/<int:policy_id>")
def policy(policy_id: int) -> str:
    item = db.get_or_404(Policy, policy_id)
    bills_on_policy = db.session.scalars(
        select(Bill)
        .where(Bill.policy_id == item.id)
        .options(selectinload(Bill.payment_codes), selectinload(Bill.policy))
        .order_by(Bill.due_date.desc(), Bill.id.desc())
    ).all()
    return render_template(
        "admin/policy.html",
        policy=item,
        bills=bills_on_policy,
        standings=_standings(bills_on_policy),
        exception_counts=open_exception_counts(db.session, [b.id for b in bills_on_policy]),
        history=_history("policy", item.id),
    )


@bp.route("/policyholders/<int:holder_id>/policies/new", methods=["GET", "POST"])
@write_required
def new_policy(holder_id: int) -> Any:
    return _policy_form(db.get_or_404(Policyholder, holder_id), None)


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@write_required
def edit_policy(policy_id: int) -> Any:
    item = db.get_or_404(Policy, policy_id)
    return _policy_form(item.policyholder, item)


def _policy_form(holder: Policyholder, item: Policy | None) -> Any:
    """The policy form: a new policy of ``holder``, or changes to ``item`` (whose number, the
    import's key for it, stays)."""
    form = PolicyForm() if item is None else PolicyEditForm()
    rules = _offer_statuses(form, current=item.status if item else None)
    if item is not None:
        form.policy_number.data = item.number
        if request.method == "GET":
            form.policy_type.data = item.type
            form.policy_account_name.data = item.account_name
            form.policy_status.data = item.status

    def change() -> Policy:
        fields = {
            "type": form.policy_type.data or "",
            "account_name": form.policy_account_name.data or "",
            "status": form.policy_status.data or "",
        }
        if item is None:
            number = form.policy_number.data or ""
            return changes.create_policy(
                db.session, holder, actor=staff(), number=number, rules=rules, now=now(), **fields
            )
        return changes.update_policy(
            db.session, item, actor=staff(), rules=rules, now=now(), **fields
        )

    def done(saved: Policy) -> tuple[str, str]:
        message = "Policy %(number)s created." if item is None else "Policy %(number)s saved."
        return _(message, number=saved.number), url_for("admin.policy", policy_id=saved.id)

    response = submit_form(form, change, done)
    return response or render_template(
        "admin/policy_form.html", form=form, holder=holder, policy=item
    )
