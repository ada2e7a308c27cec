"""The field limits of DOKU's Alfa O2O protocol, in one place.

The protocol sets them (DOKU's guide, docs/protocol.md); the message schemas check them, the
database columns are as wide as they say, and the bill import and staff forms refuse what the
till could not take. This module is plain constants: models and services may import it (the
import contracts allow this one module of ``portal.doku``), so there is one number per rule.
"""

from __future__ import annotations

# The payment code the cashier types: digits only, at most this many.
PAYMENT_CODE_MAX = 20
INVOICE_NUMBER_MAX = 64
# Whole rupiah, at most twelve digits.
AMOUNT_MAX_DIGITS = 12
AMOUNT_MAX = 10**AMOUNT_MAX_DIGITS - 1
# The info line shown on the till's screen when the code is looked up.
INFO_MAX = 32
# The receipt footer: printed in lines of FOOTER_LINE_WIDTH ("fix length"), at most
# FOOTER_MESSAGE_MAX characters, so at most three lines.
FOOTER_MESSAGE_MAX = 120
FOOTER_LINE_WIDTH = 40
CUSTOMER_NAME_MAX = 64
CUSTOMER_EMAIL_MAX = 128
# Request-Id header and the acquirer identifiers (AGENT_ID, AGENT_STORE_ID, AGENT_TRX_ID).
REQUEST_ID_MAX = 128
IDENTIFIER_VALUE_MAX = 128
# The status words DOKU sends and we store (``transactionStatus``, our verdicts).
STATUS_MAX = 32


def usable_request_id(value: str | None) -> str | None:
    """A Request-Id we can store and echo: 1 to REQUEST_ID_MAX printable ASCII characters
    without spaces; anything else is treated as absent."""
    if value and len(value) <= REQUEST_ID_MAX and all(" " < c <= "~" for c in value):
        return value
    return None
