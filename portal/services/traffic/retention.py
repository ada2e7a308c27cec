"""How long DOKU traffic is kept: refused deliveries and inquiry records age out, payments never.

Refused deliveries (badly signed notifications) and the inquiry log are evidence for a while,
then only cost disk. Authenticated notifications are the record of money received and are
never pruned, whatever their age; nor are payments or exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete

from portal.models import Inquiry, ReceivedNotification
from portal.services.session import Session


@dataclass(frozen=True, slots=True)
class Pruned:
    refused_deliveries: int
    inquiries: int


def prune_traffic(session: Session, *, before: datetime) -> Pruned:
    """Delete refused deliveries and inquiry records received before ``before`` (flushed)."""
    refused = session.execute(
        delete(ReceivedNotification).where(
            ReceivedNotification.verdict == "unauthenticated",
            ReceivedNotification.received_at < before,
        )
    )
    asked = session.execute(delete(Inquiry).where(Inquiry.received_at < before))
    return Pruned(refused_deliveries=refused.rowcount or 0, inquiries=asked.rowcount or 0)  # type: ignore[attr-defined]
