"""Typed SQLAlchemy 2.0 models, one module per domain area."""

from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.billing import Bill, BillState, PaymentCode, Policy, Policyholder
from portal.models.doku import Inquiry

__all__ = [
    "Base",
    "Bill",
    "BillState",
    "Inquiry",
    "PaymentCode",
    "Policy",
    "Policyholder",
    "UTCDateTime",
    "utcnow",
]
