"""The record of every exchange with DOKU."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.doku.limits import (
    IDENTIFIER_VALUE_MAX,
    INVOICE_NUMBER_MAX,
    PAYMENT_CODE_MAX,
    REQUEST_ID_MAX,
    STATUS_MAX,
)
from portal.models.base import Base, BigId, UTCDateTime, utcnow

IDENTIFIER_MAX = IDENTIFIER_VALUE_MAX


class Inquiry(Base):
    """One authenticated inquiry from DOKU and the exact answer we sent."""

    __tablename__ = "inquiries"
    __table_args__ = (
        UniqueConstraint("client_id", "request_id", name="uq_inquiries_client_request"),
        Index("ix_inquiries_payment_code", "payment_code"),
        Index("ix_inquiries_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(REQUEST_ID_MAX))
    request_timestamp: Mapped[str] = mapped_column(String(40))
    # Hex SHA-256 of the raw body: a replayed Request-Id must carry the same body.
    request_sha256: Mapped[str] = mapped_column(String(64))
    payment_code: Mapped[str | None] = mapped_column(String(PAYMENT_CODE_MAX))
    inquiry_date: Mapped[str | None] = mapped_column(String(40))
    agent_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_MAX))
    agent_store_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_MAX))
    agent_trx_id: Mapped[str | None] = mapped_column(String(IDENTIFIER_MAX))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(200))
    http_status: Mapped[int] = mapped_column(SmallInteger)
    request_body: Mapped[str] = mapped_column(Text)
    response_body: Mapped[str] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


REFUSED_BODY_PREFIX = 256


class ReceivedNotification(Base):
    """Every HTTP Notification delivery, stored before it is processed.

    One row per delivery, duplicates included: the outcome says what became of each.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_request_id", "request_id"),
        Index("ix_notifications_received_at", "received_at"),
        Index("ix_notifications_payment_code", "payment_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(REQUEST_ID_MAX))
    request_timestamp: Mapped[str | None] = mapped_column(String(64))
    # The headers as received (JSON), without the signature; "{}" for a refused delivery.
    headers: Mapped[str] = mapped_column(Text)
    # The body as received; of a refused delivery only its first REFUSED_BODY_PREFIX
    # characters (anyone can send those: they must not fill the database).
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_bytes: Mapped[int | None] = mapped_column(Integer)
    # authenticated | unauthenticated | invalid
    verdict: Mapped[str] = mapped_column(String(32))
    # applied | duplicate | exception | error; NULL while (or if never) processed.
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    transaction_status: Mapped[str | None] = mapped_column(String(STATUS_MAX))
    payment_code: Mapped[str | None] = mapped_column(String(PAYMENT_CODE_MAX))
    invoice_number: Mapped[str | None] = mapped_column(String(INVOICE_NUMBER_MAX))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    exception_id: Mapped[int | None] = mapped_column(ForeignKey("payment_exceptions.id"))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[str | None] = mapped_column(Text)
