"""What staff do to policyholders, policies, bills and payment codes.

Each change is checked with the fields' rules (``services.billing.validation``, which the
import shares), written together with its audit row and flushed; the caller commits once. A
paid bill is final: it cannot be edited, cancelled, extended or given a new code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from portal.models import (
    Bill,
    BillState,
    PaymentCode,
    Policy,
    Policyholder,
    StaffUser,
)
from portal.services.accounts import audit
from portal.services.billing.payability import (
    PayabilityRules,
    PolicyStatusError,
)
from portal.services.billing.payment_codes import (
    CodeSettings,
    expiry_refusal,
    issue_code,
    new_code_expiry,
)
from portal.services.billing.text_rules import unsafe_character
from portal.services.billing.validation import InvalidFields, check_fields
from portal.services.messages import N_, Message, MessageError
from portal.services.paging import Page, paginate
from portal.services.session import Session


class BillingError(MessageError):
    """A change the rules do not allow; the message says why (``.message`` for a page)."""


class BillLocked(BillingError):
    """The bill is paid (or cancelled) and cannot be changed."""


# Search.


def search_policyholders(
    session: Session, query: str = "", *, page: int = 1, per_page: int = 25
) -> Page[Policyholder]:
    """Policyholders whose name, email or one of whose policy numbers contains ``query``."""
    statement: Select[Any] = select(Policyholder).options(selectinload(Policyholder.policies))
    query = query.strip()
    if query:
        statement = statement.where(
            or_(
                Policyholder.name.icontains(query, autoescape=True),
                Policyholder.email.icontains(query, autoescape=True),
                exists().where(
                    Policy.policyholder_id == Policyholder.id,
                    Policy.number.icontains(query, autoescape=True),
                ),
            )
        )
    statement = statement.order_by(func.lower(Policyholder.name), Policyholder.id)
    return paginate(session, statement, page, per_page)


def search_policies(
    session: Session, query: str = "", *, page: int = 1, per_page: int = 25
) -> Page[Policy]:
    """Policies whose number, type, account name or policyholder contains ``query``."""
    statement: Select[Any] = (
        select(Policy)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .options(selectinload(Policy.policyholder))
    )
    query = query.strip()
    if query:
        statement = statement.where(
            or_(
                Policy.number.icontains(query, autoescape=True),
                Policy.type.icontains(query, autoescape=True),
                Policy.account_name.icontains(query, autoescape=True),
                Policyholder.name.icontains(query, autoescape=True),
                Policyholder.email.icontains(query, autoescape=True),
            )
        )
    statement = statement.order_by(Policy.number)
    return paginate(session, statement, page, per_page)


# Snapshots for the audit log.


def holder_snapshot(holder: Policyholder) -> dict[str, Any]:
    return {"name": holder.name, "email": holder.email}


def policy_snapshot(policy: Policy) -> dict[str, Any]:
    return {
        "number": policy.number,
        "type": policy.type,
        "account_name": policy.account_name,
        "status": policy.status,
        "policyholder_id": policy.policyholder_id,
    }


def bill_snapshot(bill: Bill) -> dict[str, Any]:
    code = bill.current_code
    return {
        "invoice_number": bill.invoice_number,
        "policy_id": bill.policy_id,
        "amount": bill.amount,
        "due_date": bill.due_date,
        "state": bill.state,
        "info": bill.info,
        "footer_message": bill.footer_message,
        "payment_code": code.code if code else None,
        "expires_at": code.expires_at if code else None,
    }


def _audit(
    session: Session,
    actor: StaffUser,
    action: str,
    entity_id: int,
    before: audit.Snapshot | None,
    after: audit.Snapshot | None,
    now: datetime,
) -> None:
    """The change's audit row, written with it: the record is the action's first word
    (``bill.cancel`` is about a bill)."""
    entity = action.split(".", 1)[0]
    audit.record(
        session,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        now=now,
    )


# Policyholders.


def _holder_with_email(session: Session, email: str) -> Policyholder | None:
    return session.scalar(select(Policyholder).where(Policyholder.email == email))


def create_policyholder(
    session: Session, *, actor: StaffUser, name: str, email: str, now: datetime
) -> Policyholder:
    name, email = name.strip(), email.strip().lower()
    check_fields(customer_name=name, customer_email=email)
    if _holder_with_email(session, email) is not None:
        raise InvalidFields({"customer_email": [N_("Another policyholder has this email.")]})
    holder = Policyholder(name=name, email=email, created_at=now)
    session.add(holder)
    session.flush()
    _audit(session, actor, "policyholder.create", holder.id, None, holder_snapshot(holder), now)
    return holder


def update_policyholder(
    session: Session,
    holder: Policyholder,
    *,
    actor: StaffUser,
    name: str,
    email: str,
    now: datetime,
) -> Policyholder:
    name, email = name.strip(), email.strip().lower()
    check_fields(customer_name=name, customer_email=email)
    other = _holder_with_email(session, email)
    if other is not None and other.id != holder.id:
        raise InvalidFields({"customer_email": [N_("Another policyholder has this email.")]})
    before = holder_snapshot(holder)
    holder.name, holder.email = name, email
    session.flush()
    _audit(session, actor, "policyholder.update", holder.id, before, holder_snapshot(holder), now)
    return holder


# Policies.


def _policy_status(status: str, rules: PayabilityRules) -> str:
    try:
        return rules.policy_status(status)
    except PolicyStatusError as exc:
        raise InvalidFields({"policy_status": [exc.message]}) from exc


def create_policy(
    session: Session,
    holder: Policyholder,
    *,
    actor: StaffUser,
    number: str,
    type: str,
    account_name: str,
    status: str,
    rules: PayabilityRules,
    now: datetime,
) -> Policy:
    number, type, account_name = (v.strip() for v in (number, type, account_name))
    status = _policy_status(status, rules)
    check_fields(policy_number=number, policy_type=type, policy_account_name=account_name)
    if session.scalar(select(Policy.id).where(Policy.number == number)) is not None:
        raise InvalidFields(
            {"policy_number": [Message.of(N_("Policy %(number)s exists already."), number=number)]}
        )
    policy = Policy(
        policyholder=holder,
        number=number,
        type=type,
        account_name=account_name,
        status=status,
        created_at=now,
    )
    session.add(policy)
    session.flush()
    _audit(session, actor, "policy.create", policy.id, None, policy_snapshot(policy), now)
    return policy


def update_policy(
    session: Session,
    policy: Policy,
    *,
    actor: StaffUser,
    type: str,
    account_name: str,
    status: str,
    rules: PayabilityRules,
    now: datetime,
) -> Policy:
    """Change a policy's type, account name or status. The number is the import's key for
    the policy, so it stays."""
    type, account_name = (v.strip() for v in (type, account_name))
    status = _policy_status(status, rules)
    check_fields(policy_type=type, policy_account_name=account_name)
    before = policy_snapshot(policy)
    policy.type, policy.account_name, policy.status = type, account_name, status
    session.flush()
    _audit(session, actor, "policy.update", policy.id, before, policy_snapshot(policy), now)
    return policy


# Bills.


def _check_expiry(expires_at: datetime, now: datetime, field: str) -> None:
    problem = expiry_refusal(expires_at, now=now)
    if problem is not None:
        raise InvalidFields({field: [problem]})


# Each refusal whole, so a translation can word it freely: (paid, cancelled) per change.
_LOCKED = {
    "edited": (
        N_("Bill %(invoice)s is paid; it cannot be edited."),
        N_("Bill %(invoice)s is cancelled; it cannot be edited."),
    ),
    "cancelled": (
        N_("Bill %(invoice)s is paid; it cannot be cancelled."),
        N_("Bill %(invoice)s is cancelled; it cannot be cancelled."),
    ),
    "extended": (
        N_("Bill %(invoice)s is paid; it cannot be extended."),
        N_("Bill %(invoice)s is cancelled; it cannot be extended."),
    ),
    "given a new payment code": (
        N_("Bill %(invoice)s is paid; it cannot be given a new payment code."),
        N_("Bill %(invoice)s is cancelled; it cannot be given a new payment code."),
    ),
}


def require_unpaid(bill: Bill, doing: str) -> None:
    """``BillLocked`` unless ``bill`` is unpaid; ``doing`` is a key of ``_LOCKED``."""
    paid, cancelled = _LOCKED[doing]
    if bill.state == BillState.PAID:
        raise BillLocked(Message.of(paid, invoice=bill.invoice_number))
    if bill.state == BillState.CANCELLED:
        raise BillLocked(Message.of(cancelled, invoice=bill.invoice_number))


def create_bill(
    session: Session,
    policy: Policy,
    *,
    actor: StaffUser,
    invoice_number: str,
    amount: int,
    due_date: date,
    info: str,
    footer_message: str,
    expires_at: datetime | None,
    settings: CodeSettings,
    now: datetime,
) -> Bill:
    """A new unpaid bill on ``policy`` with a freshly generated payment code. The code expires
    at ``expires_at``, or by the import's rule (``new_code_expiry``): the end of the due date
    (WIB) plus the grace days, or for an overdue bill the grace days from today."""
    invoice_number = invoice_number.strip()
    check_fields(
        invoice_number=invoice_number, amount=amount, info=info, footer_message=footer_message
    )
    if session.scalar(select(Bill.id).where(Bill.invoice_number == invoice_number)):
        raise InvalidFields(
            {
                "invoice_number": [
                    Message.of(N_("Invoice %(invoice)s exists already."), invoice=invoice_number)
                ]
            }
        )
    expiry = expires_at or new_code_expiry(due_date, settings, now=now)
    _check_expiry(expiry, now, "expires_on")
    bill = Bill(
        policy=policy,
        invoice_number=invoice_number,
        amount=amount,
        due_date=due_date,
        state=BillState.UNPAID.value,
        info=info or None,
        footer_message=footer_message or None,
        created_at=now,
        updated_at=now,
    )
    session.add(bill)
    issue_code(session, bill, expires_at=expiry, settings=settings)
    session.flush()
    session.expire(bill, ["payment_codes"])  # the new code is linked by id: reload the list
    _audit(session, actor, "bill.create", bill.id, None, bill_snapshot(bill), now)
    return bill


def update_bill(
    session: Session,
    bill: Bill,
    *,
    actor: StaffUser,
    amount: int,
    due_date: date,
    info: str,
    footer_message: str,
    now: datetime,
) -> Bill:
    """Change an unpaid bill's amount, due date and receipt text (empty text: the default)."""
    require_unpaid(bill, "edited")
    check_fields(amount=amount, info=info, footer_message=footer_message)
    before = bill_snapshot(bill)
    bill.amount, bill.due_date = amount, due_date
    bill.info, bill.footer_message = info or None, footer_message or None
    bill.updated_at = now
    session.flush()
    _audit(session, actor, "bill.update", bill.id, before, bill_snapshot(bill), now)
    return bill


def cancel_bill(
    session: Session, bill: Bill, *, actor: StaffUser, note: str, now: datetime
) -> Bill:
    """Cancel an unpaid bill. Its code stays on record: the till is then told ``decline``,
    and money paid anyway becomes a ``cancelled_bill`` exception."""
    require_unpaid(bill, "cancelled")
    reason = note.strip()
    if not reason:
        raise InvalidFields({"note": [N_("Say why the bill is cancelled.")]})
    problem = unsafe_character(reason, multiline=True)
    if problem is not None:
        raise InvalidFields({"note": [problem]})
    before = bill_snapshot(bill)
    bill.state = BillState.CANCELLED.value
    bill.cancel_reason = reason
    bill.updated_at = now
    session.flush()
    after = bill_snapshot(bill) | {"note": reason}
    _audit(session, actor, "bill.cancel", bill.id, before, after, now)
    return bill


def _live_code(bill: Bill) -> PaymentCode:
    code = bill.current_code
    if code is None:
        raise BillingError(
            Message.of(
                N_("Bill %(invoice)s has no live payment code."), invoice=bill.invoice_number
            )
        )
    return code


def extend_code(
    session: Session, bill: Bill, *, actor: StaffUser, expires_at: datetime, now: datetime
) -> PaymentCode:
    """Let the live payment code of an unpaid bill be used until a later ``expires_at``."""
    require_unpaid(bill, "extended")
    code = _live_code(bill)
    if expires_at <= code.expires_at:
        later = Message.of(
            N_("Must be later than the current expiry (%(when)s UTC)."),
            when=f"{code.expires_at:%Y-%m-%d %H:%M}",
        )
        raise InvalidFields({"expires_on": [later]})
    _check_expiry(expires_at, now, "expires_on")
    before = bill_snapshot(bill)
    code.expires_at = expires_at
    bill.updated_at = now
    session.flush()
    _audit(session, actor, "bill.extend_code", bill.id, before, bill_snapshot(bill), now)
    return code


def reissue_code(
    session: Session,
    bill: Bill,
    *,
    actor: StaffUser,
    expires_at: datetime | None,
    settings: CodeSettings,
    now: datetime,
) -> PaymentCode:
    """Retire the bill's live code and issue a new one. The old code then answers
    ``billing_not_found`` and is never issued again (codes are never deleted)."""
    require_unpaid(bill, "given a new payment code")
    old = _live_code(bill)
    expiry = expires_at or max(old.expires_at, new_code_expiry(bill.due_date, settings, now=now))
    _check_expiry(expiry, now, "expires_on")
    before = bill_snapshot(bill)
    old.retired_at = now
    session.flush()  # the one-live-code-per-bill index must see the old code retired first
    new = issue_code(session, bill, expires_at=expiry, settings=settings)
    bill.updated_at = now
    session.flush()
    session.expire(bill, ["payment_codes"])  # the new code is linked by id: reload the list
    _audit(
        session,
        actor,
        "bill.reissue_code",
        bill.id,
        before,
        bill_snapshot(bill) | {"retired_code": old.code},
        now,
    )
    return new
