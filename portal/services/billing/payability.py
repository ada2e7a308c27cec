"""Would the till accept this bill now, and if not, why: the one rule, in Python and in SQL.

Every answer about paying at a store comes from here: the inquiry's verdict, the portal's
"how to pay" (or why not), the reminder emails, the back office's states, filters and counts.
:func:`refusal` decides for one bill in Python; :func:`refusal_sql` is the same decision as a
SQL ``CASE`` over ``bills``, ``policies`` and the bill's live ``payment_codes`` row, so lists
and counts filter in the database and still agree with the inquiry. A property-based test
(tests/services/test_payability.py) keeps the two, the portal, the reminders and the inquiry
in step.

The order is the inquiry's: a paid bill says so even after its code expired, a cancelled bill
declines, then a missing code, expiry, the policy's status and the till's amount limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal
from sqlalchemy.sql.elements import Case

from portal.models import Bill, BillState, PaymentCode, Policy
from portal.services.messages import N_, Message, MessageError, Template, read_back


class Refusal(StrEnum):
    """Why the till would decline a bill (``None`` from :func:`refusal`: it would accept)."""

    PAID = "paid"
    CANCELLED = "cancelled"
    NO_CODE = "no_code"
    EXPIRED = "expired"
    POLICY_NOT_PAYABLE = "policy_not_payable"
    AMOUNT_TOO_SMALL = "amount_too_small"
    AMOUNT_TOO_LARGE = "amount_too_large"


# The statuses a policy may have unless POLICY_STATUSES says otherwise.
DEFAULT_POLICY_STATUSES = ("aktif", "masa tenggang", "lapse", "batal", "berakhir")


class PolicyStatusError(MessageError):
    """A policy status outside the configured vocabulary; the message lists the allowed ones."""


def normalise_status(value: str) -> str:
    """How a policy status is stored: lower case, single spaces (``" Aktif "`` -> ``"aktif"``)."""
    return re.sub(r"\s+", " ", value).strip().lower()


@dataclass(frozen=True, slots=True)
class PayabilityRules:
    min_amount: int
    max_amount: int
    # Every status a policy may have, in the order forms offer them; and those that may pay.
    policy_statuses: tuple[str, ...]
    payable_statuses: frozenset[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PayabilityRules:
        return cls(
            min_amount=config["ALFA_MIN_AMOUNT"],
            max_amount=config["ALFA_MAX_AMOUNT"],
            policy_statuses=tuple(normalise_status(s) for s in config["POLICY_STATUSES"]),
            payable_statuses=frozenset(
                normalise_status(s) for s in config["ACTIVE_POLICY_STATUSES"]
            ),
        )

    def policy_status(self, value: str) -> str:
        """``value`` as stored, or PolicyStatusError naming the statuses this insurer uses."""
        return vocabulary_status(value, self.policy_statuses)


def vocabulary_status(value: str, vocabulary: tuple[str, ...]) -> str:
    """``value`` normalised, if it is in ``vocabulary``; else PolicyStatusError with the list."""
    status = normalise_status(value)
    if status not in vocabulary:
        raise PolicyStatusError(
            Message.of(
                N_("Unknown policy status %(status)s; use one of: %(statuses)s."),
                status=repr(value.strip()[:40]),
                statuses=", ".join(vocabulary),
            )
        )
    return status


def config_problems(config: Mapping[str, Any]) -> Iterable[str]:
    """What is wrong with the statuses in ``config``, for start-up checks."""
    vocabulary = {normalise_status(s) for s in config["POLICY_STATUSES"]}
    if not vocabulary:
        yield "POLICY_STATUSES is empty: list the statuses a policy may have"
    strays = sorted({normalise_status(s) for s in config["ACTIVE_POLICY_STATUSES"]} - vocabulary)
    if strays:
        yield f"ACTIVE_POLICY_STATUSES has {', '.join(strays)}, which POLICY_STATUSES lacks"


def refusal(
    *,
    state: str,
    amount: int,
    policy_status: str,
    expires_at: datetime | None,
    now: datetime,
    rules: PayabilityRules,
) -> Refusal | None:
    """Why the till would decline this bill at ``now``; ``None`` if it would accept it.

    ``expires_at`` is the expiry of the bill's live payment code, ``None`` if it has none.
    """
    if state == BillState.PAID:
        return Refusal.PAID
    if state == BillState.CANCELLED:
        return Refusal.CANCELLED
    if expires_at is None:
        return Refusal.NO_CODE
    if expires_at <= now:
        return Refusal.EXPIRED
    if policy_status not in rules.payable_statuses:
        return Refusal.POLICY_NOT_PAYABLE
    if amount < rules.min_amount:
        return Refusal.AMOUNT_TOO_SMALL
    if amount > rules.max_amount:
        return Refusal.AMOUNT_TOO_LARGE
    return None


def live_code_join() -> ColumnElement[bool]:
    """The ON clause that joins a bill to its live code (outer-join it: a bill may have none)."""
    return and_(PaymentCode.bill_id == Bill.id, PaymentCode.retired_at.is_(None))


def refusal_sql(*, now: datetime, rules: PayabilityRules) -> Case[Any]:
    """:func:`refusal` as SQL: the refusal's value, or NULL where the till would accept.

    Needs ``bills`` joined to ``policies`` and outer-joined to the live code
    (:func:`live_code_join`).
    """
    payable = sorted(rules.payable_statuses) or [""]
    return case(
        (Bill.state == BillState.PAID.value, literal(Refusal.PAID.value)),
        (Bill.state == BillState.CANCELLED.value, literal(Refusal.CANCELLED.value)),
        (PaymentCode.id.is_(None), literal(Refusal.NO_CODE.value)),
        (PaymentCode.expires_at <= now, literal(Refusal.EXPIRED.value)),
        (Policy.status.not_in(payable), literal(Refusal.POLICY_NOT_PAYABLE.value)),
        (Bill.amount < rules.min_amount, literal(Refusal.AMOUNT_TOO_SMALL.value)),
        (Bill.amount > rules.max_amount, literal(Refusal.AMOUNT_TOO_LARGE.value)),
        else_=None,
    )


def payable_sql(*, now: datetime, rules: PayabilityRules) -> ColumnElement[bool]:
    """Where the till would accept the bill now (same joins as :func:`refusal_sql`)."""
    return refusal_sql(now=now, rules=rules).is_(None)


# The reasons an inquiry records (English, short), read back and translated where staff read
# them (services/traffic/history); the inquiry itself only formats a string.
_EXPIRED_AT = Template(N_("code expired at %(when)s"))
_POLICY_STATUS = Template(N_("policy status is %(status)s"))
_OUTSIDE_LIMITS = Template(
    N_("amount %(amount)s is outside the Alfa limits %(min)s-%(max)s"),
    money=("amount", "min", "max"),
)
_FIXED_REASONS = {
    Refusal.PAID: Template(N_("bill is paid")),
    Refusal.CANCELLED: Template(N_("bill is cancelled")),
    Refusal.NO_CODE: Template(N_("bill has no live payment code")),
    Refusal.EXPIRED: Template(N_("code expired")),
}
NOT_FOUND_REASON = Template(N_("no live bill has this payment code"))
REASONS = (
    _EXPIRED_AT,
    _POLICY_STATUS,
    _OUTSIDE_LIMITS,
    NOT_FOUND_REASON,
    *_FIXED_REASONS.values(),
)


def reason(
    refused: Refusal,
    *,
    rules: PayabilityRules,
    policy_status: str = "",
    amount: int = 0,
    expires_at: datetime | None = None,
) -> str:
    """A line for logs and staff (English; :func:`reason_message` reads it back for a page)."""
    if refused is Refusal.EXPIRED and expires_at is not None:
        return str(_EXPIRED_AT(when=f"{expires_at:%Y-%m-%dT%H:%M:%SZ}"))
    if refused is Refusal.POLICY_NOT_PAYABLE:
        return str(_POLICY_STATUS(status=repr(policy_status)))
    if refused in (Refusal.AMOUNT_TOO_SMALL, Refusal.AMOUNT_TOO_LARGE):
        return str(_OUTSIDE_LIMITS(amount=amount, min=rules.min_amount, max=rules.max_amount))
    return _FIXED_REASONS[refused].text


def reason_message(recorded: str) -> Message | str:
    """An inquiry's recorded reason as a message to translate (else the text as it is)."""
    return read_back(recorded, REASONS)


class Standing(StrEnum):
    """A bill as staff see it: one word derived from :class:`Refusal`, for badges and filters."""

    PAYABLE = "payable"  # the till would take it now
    DECLINED = "declined"  # unpaid, but the till would decline it (no code, policy, amount)
    EXPIRED = "expired"
    PAID = "paid"
    CANCELLED = "cancelled"


_STANDING_OF = {
    Refusal.PAID: Standing.PAID,
    Refusal.CANCELLED: Standing.CANCELLED,
    Refusal.EXPIRED: Standing.EXPIRED,
}


def standing(refused: Refusal | None) -> Standing:
    if refused is None:
        return Standing.PAYABLE
    return _STANDING_OF.get(refused, Standing.DECLINED)


def standing_sql(wanted: Standing, *, now: datetime, rules: PayabilityRules) -> ColumnElement[bool]:
    """Where a bill's standing is ``wanted`` (same joins as :func:`refusal_sql`)."""
    refused = refusal_sql(now=now, rules=rules)
    if wanted is Standing.PAYABLE:
        return refused.is_(None)
    if wanted is Standing.DECLINED:
        return refused.in_([r.value for r in Refusal if r not in _STANDING_OF])
    value = next(r for r, s in _STANDING_OF.items() if s is wanted)
    return refused == value.value
