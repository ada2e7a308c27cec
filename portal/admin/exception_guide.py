"""What staff read about payment exceptions: a name for each kind, what to do about it, and
the words for where the money stands. English here, Bahasa Indonesia in the catalog."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from portal.models import ExceptionKind
from portal.models.payments import Resolution
from portal.services.reporting.reconciliation import MoneyState

KIND_LABELS: dict[str, LazyString] = {
    ExceptionKind.UNKNOWN_CODE: _l("Unknown payment code"),
    ExceptionKind.RETIRED_CODE: _l("Replaced payment code"),
    ExceptionKind.INVOICE_MISMATCH: _l("Wrong invoice"),
    ExceptionKind.AMOUNT_MISMATCH: _l("Wrong amount"),
    ExceptionKind.SECOND_PAYMENT: _l("Second payment"),
    ExceptionKind.CANCELLED_BILL: _l("Paid a cancelled bill"),
    ExceptionKind.LATE_PAYMENT: _l("Late payment"),
    ExceptionKind.FAILED_PAYMENT: _l("Failed payment"),
    ExceptionKind.UNKNOWN_STATUS: _l("Unknown transaction status"),
    ExceptionKind.REQUEST_ID_REUSED: _l("Request-Id used twice"),
    ExceptionKind.UNREADABLE: _l("Unreadable notification"),
}

KIND_GUIDES: dict[str, LazyString] = {
    ExceptionKind.SECOND_PAYMENT: _l(
        "The bill was paid already and the customer paid it again. Refund this payment "
        "through DOKU's back office, then call the customer to say the money is on its way "
        "back."
    ),
    ExceptionKind.CANCELLED_BILL: _l(
        "The customer paid a bill that is cancelled. Refund the money through DOKU's back "
        "office (or apply it to the bill that replaced this one) and call the customer."
    ),
    ExceptionKind.AMOUNT_MISMATCH: _l(
        "The amount paid is not the bill's amount, so the bill stays unpaid. Refund the "
        "payment through DOKU's back office and call the customer to pay the right amount; "
        "apply it only if the bill's amount was wrong."
    ),
    ExceptionKind.INVOICE_MISMATCH: _l(
        "DOKU names another invoice than the bill of this payment code. Look the payment up "
        "in DOKU's back office, then refund it through DOKU or apply it to the right bill, "
        "and call the customer."
    ),
    ExceptionKind.RETIRED_CODE: _l(
        "The customer paid with a code that a reissue replaced. Apply the money to the bill "
        "if it is still unpaid, or refund it through DOKU's back office, and call the customer."
    ),
    ExceptionKind.UNKNOWN_CODE: _l(
        "No bill has this payment code. Look the payment up in DOKU's back office to find who "
        "paid, then refund it through DOKU or apply it to the right bill."
    ),
    ExceptionKind.LATE_PAYMENT: _l(
        "Paid after the code expired; the payment was accepted and the bill is paid. Nothing "
        "to refund: confirm it."
    ),
    ExceptionKind.FAILED_PAYMENT: _l(
        "DOKU reports the payment failed: no money moved and the bill stays unpaid. Confirm it."
    ),
    ExceptionKind.UNKNOWN_STATUS: _l(
        "DOKU sent a transaction status we do not know; nothing was applied. Look the "
        "transaction up in DOKU's back office and record what happened to the money."
    ),
    ExceptionKind.REQUEST_ID_REUSED: _l(
        "DOKU sent a Request-Id it had used before, with another body; it was not applied. "
        "Compare the deliveries and look the payment up in DOKU's back office."
    ),
    ExceptionKind.UNREADABLE: _l(
        "The notification could not be read (a missing field, or an amount with decimals); "
        "nothing was applied. Open the delivery, look the payment up in DOKU's back office "
        "and record what happened to the money."
    ),
}

RESOLUTION_LABELS: dict[str, LazyString] = {
    Resolution.REFUNDED: _l("Refunded to the customer through DOKU"),
    Resolution.APPLIED: _l("Applied by staff to a bill"),
    Resolution.NO_MONEY: _l("No money to act on"),
}

STATE_LABELS: dict[str, LazyString] = {
    MoneyState.APPLIED: _l("Applied"),
    MoneyState.OPEN: _l("Held, open"),
    MoneyState.REFUNDED: _l("Refunded"),
    MoneyState.APPLIED_BY_STAFF: _l("Applied by staff"),
    MoneyState.NO_MONEY: _l("No money (staff)"),
    MoneyState.RESOLVED: _l("Resolved, outcome not recorded"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def texts() -> dict[str, object]:
    """What the exception and reconciliation templates use."""
    return {
        "kind_label": kind_label,
        "kind_guides": KIND_GUIDES,
        "resolution_labels": RESOLUTION_LABELS,
        "state_labels": STATE_LABELS,
    }
