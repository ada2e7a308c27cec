"""Typed SQLAlchemy 2.0 models, one module per domain area."""

from portal.models.accounts import AuditEntry, ReceiptDefaults, ReminderSent, StaffRole, StaffUser
from portal.models.base import Base, UTCDateTime, utcnow
from portal.models.billing import Bill, BillState, PaymentCode, Policy, Policyholder
from portal.models.doku import Inquiry, ReceivedNotification
from portal.models.imports import (
    ExportCursor,
    ExportedPayment,
    ImportConflict,
    ImportRun,
    ImportState,
    StagedImport,
)
from portal.models.jobs import JobFailure, JobRun, RunState
from portal.models.payments import ExceptionKind, Payment, PaymentException, PaymentSource

__all__ = [
    "AuditEntry",
    "Base",
    "Bill",
    "BillState",
    "ExceptionKind",
    "ExportCursor",
    "ExportedPayment",
    "ImportConflict",
    "ImportRun",
    "ImportState",
    "Inquiry",
    "JobFailure",
    "JobRun",
    "Payment",
    "PaymentCode",
    "PaymentException",
    "PaymentSource",
    "Policy",
    "Policyholder",
    "ReceiptDefaults",
    "ReceivedNotification",
    "ReminderSent",
    "RunState",
    "StaffRole",
    "StaffUser",
    "StagedImport",
    "UTCDateTime",
    "utcnow",
]
