"""The default till info and receipt footer that staff edit (row 1 of ``receipt_defaults``).

The inquiry reads the row in its one query: a bill's own text wins, then this row, then the
configured ``DEFAULT_INFO`` / ``DEFAULT_FOOTER_MESSAGE``. An empty field here means "use the
configured default".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.models import ReceiptDefaults, StaffUser
from portal.services.accounts import audit
from portal.services.billing.receipt import effective_text
from portal.services.billing.validation import check_fields
from portal.services.session import Session


@dataclass(frozen=True, slots=True)
class EffectiveDefaults:
    info: str
    footer_message: str
    info_edited: bool  # False: the configured default applies
    footer_edited: bool
    updated_at: datetime | None
    updated_by: str | None


def effective(
    session: Session, *, configured_info: str, configured_footer: str
) -> EffectiveDefaults:
    row = session.get(ReceiptDefaults, 1)
    info = row.info if row is not None else None
    footer = row.footer_message if row is not None else None
    return EffectiveDefaults(
        info=effective_text(None, info, configured_info),
        footer_message=effective_text(None, footer, configured_footer),
        info_edited=info is not None,
        footer_edited=footer is not None,
        updated_at=row.updated_at if row is not None else None,
        updated_by=row.updated_by if row is not None else None,
    )


def update(
    session: Session, *, actor: StaffUser, info: str, footer_message: str, now: datetime
) -> ReceiptDefaults:
    """Save the defaults (checked as the import checks them); empty text: configured default."""
    check_fields(info=info, footer_message=footer_message)
    row = session.get(ReceiptDefaults, 1)
    before = None
    if row is None:
        row = ReceiptDefaults(id=1)
        session.add(row)
    else:
        before = {"info": row.info, "footer_message": row.footer_message}
    row.info = info or None
    row.footer_message = footer_message or None
    row.updated_at = now
    row.updated_by = actor.email
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="receipt_defaults.update",
        entity="receipt_defaults",
        entity_id=1,
        before=before,
        after={"info": row.info, "footer_message": row.footer_message},
        now=now,
    )
    return row
