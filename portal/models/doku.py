"""The record of every exchange with DOKU."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, BigId, UTCDateTime, utcnow

REQUEST_ID_MAX = 128
IDENTIFIER_MAX = 128


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
    payment_code: Mapped[str | None] = mapped_column(String(20))
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
