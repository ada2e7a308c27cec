"""Staff accounts, the audit log of their changes, and settings they edit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, BigId, LoginAccount, UTCDateTime, utcnow
from portal.models.billing import EMAIL_MAX, FOOTER_MESSAGE_MAX, INFO_MAX, NAME_MAX


class StaffRole(StrEnum):
    ADMIN = "admin"  # everything
    VIEWER = "viewer"  # read-only


class StaffUser(LoginAccount, Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r.value}'" for r in StaffRole) + ")", name="role"
        ),
    )
    ACCOUNT_KIND = "s"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=StaffRole.VIEWER.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def can_write(self) -> bool:
        return self.role == StaffRole.ADMIN


# "import:<file name> by <staff email>" fits: a staged file's name is at most 200 characters.
AUDIT_ACTOR_MAX = 400
AUDIT_LABEL_MAX = 200
ADDRESS_MAX = 45  # an IPv6 address written out in full


class AuditEntry(Base):
    """One change made by a person (or a login, failed login, lockout, logout): who, when,
    what, before and after. Never updated."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Kept as written at the time: the account may be renamed later.
    actor: Mapped[str] = mapped_column(String(AUDIT_ACTOR_MAX))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    # The record as people know it when the row was written (an invoice number, a policy
    # number, an email); NULL on rows written before labels were kept.
    entity_label: Mapped[str | None] = mapped_column(String(AUDIT_LABEL_MAX))
    remote_addr: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))  # logins only
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON


class ReceiptDefaults(Base):
    """The default till info and receipt footer, as edited by staff (one row, id 1).

    A NULL falls back to the configured default (DEFAULT_INFO, DEFAULT_FOOTER_MESSAGE).
    """

    __tablename__ = "receipt_defaults"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    info: Mapped[str | None] = mapped_column(String(INFO_MAX))
    footer_message: Mapped[str | None] = mapped_column(String(FOOTER_MESSAGE_MAX))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(EMAIL_MAX))


class ReminderSent(Base):
    """A reminder email sent for a bill; the unique key makes sending idempotent."""

    __tablename__ = "reminders_sent"
    __table_args__ = (Index("uq_reminders_sent_bill_kind", "bill_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    kind: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
