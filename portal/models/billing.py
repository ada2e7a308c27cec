"""Policyholders, their policies, the bills on them and each bill's Alfa payment codes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.doku.limits import AMOUNT_MAX as AMOUNT_MAX
from portal.doku.limits import CUSTOMER_EMAIL_MAX, CUSTOMER_NAME_MAX
from portal.doku.limits import FOOTER_MESSAGE_MAX as FOOTER_MESSAGE_MAX
from portal.doku.limits import INFO_MAX as INFO_MAX
from portal.doku.limits import INVOICE_NUMBER_MAX as INVOICE_NUMBER_MAX
from portal.doku.limits import PAYMENT_CODE_MAX as PAYMENT_CODE_MAX
from portal.models.base import Base, LoginAccount, UTCDateTime, utcnow

# What DOKU carries to the till is as wide as the protocol allows (portal.doku.limits);
# the rest is the insurer's own.
NAME_MAX = CUSTOMER_NAME_MAX
EMAIL_MAX = CUSTOMER_EMAIL_MAX
POLICY_NUMBER_MAX = 32
POLICY_TYPE_MAX = 64
POLICY_STATUS_MAX = 32


class Policyholder(LoginAccount, Base):
    __tablename__ = "policyholders"
    ACCOUNT_KIND = "p"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # Stored lower-cased: the import and logins look policyholders up by email.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # NULL until the policyholder sets a password through an activation link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    # "id" or "en"; NULL: Bahasa Indonesia, the default.
    language: Mapped[str | None] = mapped_column(String(8))

    @property
    def is_active(self) -> bool:
        return self.password_hash is not None

    policies: Mapped[list[Policy]] = relationship(back_populates="policyholder")


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    policyholder_id: Mapped[int] = mapped_column(ForeignKey("policyholders.id"), index=True)
    number: Mapped[str] = mapped_column(String(POLICY_NUMBER_MAX), unique=True)
    type: Mapped[str] = mapped_column(String(POLICY_TYPE_MAX))
    account_name: Mapped[str] = mapped_column(String(NAME_MAX))
    status: Mapped[str] = mapped_column(String(POLICY_STATUS_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policyholder: Mapped[Policyholder] = relationship(back_populates="policies")
    bills: Mapped[list[Bill]] = relationship(back_populates="policy")


class BillState(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    CANCELLED = "cancelled"


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        CheckConstraint(f"amount > 0 AND amount <= {AMOUNT_MAX}", name="amount_range"),
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s.value}'" for s in BillState) + ")", name="state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    invoice_number: Mapped[str] = mapped_column(String(INVOICE_NUMBER_MAX), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=BillState.UNPAID.value)
    # NULL means "use the configured default" at inquiry time.
    info: Mapped[str | None] = mapped_column(String(INFO_MAX))
    footer_message: Mapped[str | None] = mapped_column(String(FOOTER_MESSAGE_MAX))
    # Why staff cancelled it (required when cancelling; shown on the bill page).
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    policy: Mapped[Policy] = relationship(back_populates="bills")
    payment_codes: Mapped[list[PaymentCode]] = relationship(
        back_populates="bill", order_by="PaymentCode.id"
    )

    @property
    def current_code(self) -> PaymentCode | None:
        return next((c for c in self.payment_codes if c.retired_at is None), None)


class PaymentCode(Base):
    """An Alfa payment code. Rows are never deleted, so a code is never issued twice."""

    __tablename__ = "payment_codes"
    __table_args__ = (
        # Digits only, written so that SQLite and PostgreSQL both understand it.
        CheckConstraint(
            f"length(code) BETWEEN 1 AND {PAYMENT_CODE_MAX} AND ltrim(code, '0123456789') = ''",
            name="digits",
        ),
        # One live code per bill; retired codes stay for the record.
        Index(
            "uq_payment_codes_live_bill",
            "bill_id",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    code: Mapped[str] = mapped_column(String(PAYMENT_CODE_MAX), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bill: Mapped[Bill] = relationship(back_populates="payment_codes")
