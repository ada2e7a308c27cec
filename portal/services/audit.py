"""The audit log: who changed what, when, and the values before and after.

Services call :func:`record` next to the change itself and flush; the caller commits both at
once, so there is never a change without its audit row, nor an audit row for a change that was
rolled back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from portal.models import AuditEntry, StaffUser
from portal.services.paging import Page, paginate
from portal.services.payment_codes import WIB
from portal.services.reports import wib_day_bounds

Snapshot = Mapping[str, Any]


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_json(values: Snapshot | None) -> str | None:
    if values is None:
        return None
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=_json_default)


def record(
    session: Session,
    *,
    actor: StaffUser | str,
    action: str,
    entity: str,
    entity_id: object | None,
    before: Snapshot | None,
    after: Snapshot | None,
    now: datetime,
) -> AuditEntry:
    """Add one audit row (flushed with the change it describes, committed by the caller)."""
    entry = AuditEntry(
        at=now,
        staff_id=actor.id if isinstance(actor, StaffUser) else None,
        actor=actor.email if isinstance(actor, StaffUser) else actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=to_json(before),
        after=to_json(after),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class Change:
    """One changed record, for :func:`record_many`."""

    entity: str
    entity_id: object | None
    before: Snapshot | None
    after: Snapshot | None


def record_many(
    session: Session,
    *,
    actor: StaffUser | str,
    action: str,
    changes: Iterable[Change],
    now: datetime,
) -> int:
    """Many audit rows, one per change, in one INSERT (a bulk change such as an import's
    chunk of rows): the rows :func:`record` would add, without a flush per row."""
    staff_id = actor.id if isinstance(actor, StaffUser) else None
    name = actor.email if isinstance(actor, StaffUser) else actor
    rows = [
        {
            "at": now,
            "staff_id": staff_id,
            "actor": name,
            "action": action,
            "entity": change.entity,
            "entity_id": None if change.entity_id is None else str(change.entity_id),
            "before": to_json(change.before),
            "after": to_json(change.after),
        }
        for change in changes
    ]
    if rows:
        session.execute(insert(AuditEntry), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    entity: str = ""
    entity_id: str = ""
    start: date | None = None  # WIB days, inclusive
    end: date | None = None


def _filtered(filters: AuditFilter) -> Select[Any]:
    statement = select(AuditEntry)
    if filters.actor:
        statement = statement.where(AuditEntry.actor.ilike(f"%{filters.actor.strip()}%"))
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.entity:
        statement = statement.where(AuditEntry.entity == filters.entity)
    if filters.entity_id:
        statement = statement.where(AuditEntry.entity_id == filters.entity_id)
    if filters.start is not None:
        since, _ = wib_day_bounds(filters.start, filters.start)
        statement = statement.where(AuditEntry.at >= since)
    if filters.end is not None:
        _, until = wib_day_bounds(filters.end, filters.end)
        statement = statement.where(AuditEntry.at < until)
    return statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def entries(
    session: Session, filters: AuditFilter, page: int, per_page: int = 50
) -> Page[AuditEntry]:
    return paginate(session, _filtered(filters), page, per_page)


def all_entries(session: Session, filters: AuditFilter) -> list[AuditEntry]:
    return list(session.scalars(_filtered(filters)))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


CSV_HEADER = ("id", "at_wib", "actor", "action", "entity", "entity_id", "before", "after")


def audit_csv(rows: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for entry in rows:
        writer.writerow(
            (
                entry.id,
                entry.at.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S"),
                entry.actor,
                entry.action,
                entry.entity,
                entry.entity_id or "",
                entry.before or "",
                entry.after or "",
            )
        )
    return out.getvalue()
