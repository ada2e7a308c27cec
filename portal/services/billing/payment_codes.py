"""Alfa payment codes: company prefix + random digits from a CSPRNG + a Luhn check digit.

Random, not sequential: anyone at a till can type a code and see the customer's name, so
neighbouring codes must not belong to other customers. The check digit makes a single mistyped
digit (and most swaps of neighbours) an invalid code instead of somebody else's bill.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from portal.doku.limits import PAYMENT_CODE_MAX
from portal.models import Bill, PaymentCode
from portal.services.messages import N_, Message, MessageError
from portal.services.session import Session

WIB = timezone(timedelta(hours=7), "WIB")
_ISSUE_ATTEMPTS = 8


class PaymentCodeError(MessageError):
    """A code that cannot be issued; the message says why."""


@dataclass(frozen=True, slots=True)
class CodeSettings:
    prefix: str
    length: int
    grace_days: int
    require_check_digit: bool = True


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        value = int(char)
        if position % 2 == 0:  # doubled: these sit second from the right once the digit is added
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(code: str) -> bool:
    return (
        len(code) >= 2
        and code.isascii()
        and code.isdigit()
        and luhn_check_digit(code[:-1]) == code[-1]
    )


def generate_code(settings: CodeSettings) -> str:
    random_digits = settings.length - len(settings.prefix) - 1
    payload = settings.prefix + str(secrets.randbelow(10**random_digits)).zfill(random_digits)
    return payload + luhn_check_digit(payload)


def end_of_day_wib(day: date) -> datetime:
    """The last second of ``day`` in Jakarta, in UTC: a code "valid until" a day is valid
    through that day at the till, whether the day comes from a due date or from staff."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=WIB).astimezone(UTC)


def default_expiry(due_date: date, settings: CodeSettings) -> datetime:
    """End of the day (WIB) ``grace_days`` after the due date, in UTC."""
    return end_of_day_wib(due_date + timedelta(days=settings.grace_days))


# The expiry rules, for the import and for staff alike.


def new_code_expiry(due_date: date, settings: CodeSettings, *, now: datetime) -> datetime:
    """When a new code expires unless told otherwise: ``grace_days`` after the due date, or,
    for a bill already past that, ``grace_days`` after today (WIB), so an overdue bill still
    gets a code that works."""
    expiry = default_expiry(due_date, settings)
    if expiry <= now:
        expiry = default_expiry(now.astimezone(WIB).date(), settings)
    return expiry


def is_overdue(due_date: date, settings: CodeSettings, *, now: datetime) -> bool:
    """The bill's default expiry has passed: a new code gets the grace days from today."""
    return default_expiry(due_date, settings) <= now


def expiry_refusal(expires_at: datetime, *, now: datetime) -> Message | None:
    """Why a code may not be given ``expires_at``, or None: an expiry must lie in the future.
    The import then keeps the code's expiry (or skips the new bill); staff see the sentence."""
    if expires_at <= now:
        return Message.of(
            N_("The payment code would expire in the past (%(when)s UTC)."),
            when=f"{expires_at:%Y-%m-%d %H:%M}",
        )
    return None


def code_groups(code: str | None) -> list[str]:
    """``8896469706801443`` -> ``["8896", "4697", "0680", "1443"]``: a code in groups of four,
    as the slip, the emails, the back office and the simulator show it to be read out."""
    code = code or ""
    return [code[i : i + 4] for i in range(0, len(code), 4)]


def grouped_code(code: str | None) -> str:
    """A payment code as the slip prints it: ``8896 8431 3660 4199`` (empty for no code)."""
    return " ".join(code_groups(code))


def check_supplied_code(code: str, settings: CodeSettings) -> None:
    """Rules for a code that comes from the core system instead of being generated."""
    if not (1 <= len(code) <= PAYMENT_CODE_MAX and code.isascii() and code.isdigit()):
        raise PaymentCodeError(
            Message.of(N_("Payment code must be 1 to %(max)s digits."), max=PAYMENT_CODE_MAX)
        )
    if settings.require_check_digit and not luhn_valid(code):
        raise PaymentCodeError(N_("Payment code fails its check digit (Luhn): is it mistyped?"))


def code_was_issued(session: Session, code: str) -> bool:
    return bool(session.scalar(select(exists().where(PaymentCode.code == code))))


def issue_code(
    session: Session,
    bill: Bill,
    *,
    expires_at: datetime,
    settings: CodeSettings,
    code: str | None = None,
) -> PaymentCode:
    """Give ``bill`` a new live payment code, generated unless ``code`` is supplied.

    The unique constraint is the guarantee; a generated code that collides (another process
    took it first) is drawn again inside a savepoint so the caller's transaction survives.
    """
    if code is not None:
        check_supplied_code(code, settings)
        if code_was_issued(session, code):
            raise PaymentCodeError(
                Message.of(
                    N_("Payment code %(code)s was issued before; codes are never reused."),
                    code=code,
                )
            )
    if bill.id is None:
        session.flush()
    for _ in range(_ISSUE_ATTEMPTS):
        candidate = code if code is not None else generate_code(settings)
        # Linked by id, not by relationship, so a rolled-back attempt leaves no trace on the bill.
        payment_code = PaymentCode(bill_id=bill.id, code=candidate, expires_at=expires_at)
        try:
            with session.begin_nested():
                session.add(payment_code)
                session.flush()
        except IntegrityError as exc:
            if code is not None:
                raise PaymentCodeError(
                    Message.of(N_("Payment code %(code)s is already issued."), code=code)
                ) from exc
            continue
        bill.payment_codes.append(payment_code)  # so bill.current_code sees it at once
        return payment_code
    raise PaymentCodeError(
        N_("Could not draw an unused payment code; is the code space exhausted?")
    )
