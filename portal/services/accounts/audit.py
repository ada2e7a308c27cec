"""The audit log: who changed what, when, and the values before and after; and who logged in,
failed to, was locked out or logged out, from which address.

Services call :func:`record` next to the change itself; the caller commits both at once, so
there is never a change without its audit row, nor an audit row for a change that was rolled
back. :func:`record` only adds the row to the session (it runs no query): a bill import that
records 20,000 rows sends them in a few batched INSERTs at its flush, not 20,000 round trips.

Each row keeps the record's label as people know it (a bill's invoice number, a policy's
number, a policyholder's or staff member's email, a payment code in groups of four), taken
from the snapshot when the caller does not give one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, or_, select

from portal.models import AuditEntry, Policyholder, StaffUser
from portal.models.accounts import ADDRESS_MAX, AUDIT_ACTOR_MAX, AUDIT_LABEL_MAX
from portal.services.billing.payment_codes import WIB, grouped_code
from portal.services.paging import Page, paginate
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.reporting.spreadsheets import Table
from portal.services.session import Session

Snapshot = Mapping[str, Any]

# Which snapshot field names a record, per kind of record.
LABEL_FIELDS = {
    "bill": "invoice_number",
    "policy": "number",
    "policyholder": "email",
    "staff": "email",
    "payment_code": "code",
    "import": "filename",
}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def to_json(values: Snapshot | None) -> str | None:
    if values is None:
        return None
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=_json_default)


def label_from(entity: str, before: Snapshot | None, after: Snapshot | None) -> str | None:
    """The record's label from its snapshot (the newer one first), or None if it has none."""
    field = LABEL_FIELDS.get(entity)
    if field is None:
        return None
    for values in (after, before):
        value = values.get(field) if values else None
        if value:
            text = str(value)
            return grouped_code(text) if entity == "payment_code" else text
    return None


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
    entity_label: str | None = None,
    remote_addr: str | None = None,
) -> AuditEntry:
    """Add one audit row to the session, written with the change it describes when the caller
    flushes or commits.

    ``actor`` is the staff member, or a text saying who acted otherwise (``"cli"``,
    ``"import:bills.csv by ani@insurer.example"``, a policyholder's email). ``entity_label``
    names the record; by default it is read from the snapshot (see :data:`LABEL_FIELDS`).
    """
    label = entity_label if entity_label is not None else label_from(entity, before, after)
    actor_text = actor.email if isinstance(actor, StaffUser) else actor
    entry = AuditEntry(
        at=now,
        staff_id=actor.id if isinstance(actor, StaffUser) else None,
        actor=actor_text[:AUDIT_ACTOR_MAX],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        entity_label=label[:AUDIT_LABEL_MAX] if label else None,
        remote_addr=remote_addr[:ADDRESS_MAX] if remote_addr else None,
        before=to_json(before),
        after=to_json(after),
    )
    session.add(entry)
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
    chunk of rows): the rows :func:`record` would add, without an object per row."""
    staff_id = actor.id if isinstance(actor, StaffUser) else None
    name = (actor.email if isinstance(actor, StaffUser) else actor)[:AUDIT_ACTOR_MAX]
    rows = []
    for change in changes:
        label = label_from(change.entity, change.before, change.after)
        rows.append(
            {
                "at": now,
                "staff_id": staff_id,
                "actor": name,
                "action": action,
                "entity": change.entity,
                "entity_id": None if change.entity_id is None else str(change.entity_id),
                "entity_label": label[:AUDIT_LABEL_MAX] if label else None,
                "before": to_json(change.before),
                "after": to_json(change.after),
            }
        )
    if rows:
        session.execute(insert(AuditEntry), rows)
    return len(rows)


# Logging in and out.


class LoginArea(StrEnum):
    STAFF = "staff"  # the back office
    POLICYHOLDER = "policyholder"  # the portal


class LoginEvent(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"  # the rate limit refused the attempt
    LOGOUT = "logout"


# A locked-out address keeps knocking: one lockout row per account or address in this time, so
# refused attempts cannot fill the log.
LOCKOUT_QUIET = timedelta(minutes=15)


def record_login_event(
    session: Session,
    *,
    area: LoginArea,
    event: LoginEvent,
    email: str,
    account: StaffUser | Policyholder | None,
    remote_addr: str | None,
    now: datetime,
) -> AuditEntry | None:
    """Record a login, failed login, lockout or logout (added, not committed).

    The actor is the account's email, or the email tried; the password is never recorded.
    Returns None for a lockout already recorded within :data:`LOCKOUT_QUIET`.
    """
    email = (account.email if account is not None else email.strip().lower()) or "-"
    action = f"{area.value}.{event.value}"
    if event == LoginEvent.LOCKOUT:
        same_source = [AuditEntry.actor == email[:AUDIT_ACTOR_MAX]]
        if remote_addr:
            same_source.append(AuditEntry.remote_addr == remote_addr[:ADDRESS_MAX])
        recent = session.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.action == action, AuditEntry.at > now - LOCKOUT_QUIET)
            .where(or_(*same_source))
            .limit(1)
        )
        if recent is not None:
            return None
    actor: StaffUser | str = account if isinstance(account, StaffUser) else email
    return record(
        session,
        actor=actor,
        action=action,
        entity=area.value,
        entity_id=account.id if account is not None else None,
        entity_label=email,
        before=None,
        after=None,
        remote_addr=remote_addr,
        now=now,
    )


# What changed.


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str | None  # None: no value (a creation, or the field was empty)
    after: str | None


class DiffKind(StrEnum):
    CREATED = "created"  # only values after
    DELETED = "deleted"  # only values before
    CHANGED = "changed"
    NOTHING = "nothing"  # an event (a login) or a change with no field recorded


@dataclass(frozen=True, slots=True)
class Diff:
    kind: DiffKind
    changes: list[FieldChange]

    @property
    def fields(self) -> list[str]:
        return [change.field for change in self.changes]


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        values = json.loads(text)
    except ValueError:
        return {"value": text}
    return values if isinstance(values, dict) else {"value": values}


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff(entry: AuditEntry) -> Diff:
    """The fields the entry changed: for a creation its values, for a deletion the old values,
    for a change only the fields whose value differs."""
    before, after = _load(entry.before), _load(entry.after)
    if before is None and after is None:
        return Diff(DiffKind.NOTHING, [])
    if before is None:
        assert after is not None
        return Diff(DiffKind.CREATED, [FieldChange(k, None, _shown(v)) for k, v in after.items()])
    if after is None:
        return Diff(DiffKind.DELETED, [FieldChange(k, _shown(v), None) for k, v in before.items()])
    fields = [*before, *(k for k in after if k not in before)]
    changes = [
        FieldChange(k, _shown(before.get(k)), _shown(after.get(k)))
        for k in fields
        if before.get(k) != after.get(k)
    ]
    return Diff(DiffKind.CHANGED if changes else DiffKind.NOTHING, changes)


def snapshot_value(entry: AuditEntry, field: str) -> Any:
    """A field's value after the change, or before it for a deletion; None if not recorded."""
    for values in (_load(entry.after), _load(entry.before)):
        if values and values.get(field) is not None:
            return values[field]
    return None


def record_name(entry: AuditEntry) -> str:
    """The record as people know it, or ``entity #id`` for rows written before labels."""
    if entry.entity_label:
        return entry.entity_label
    return f"{entry.entity} #{entry.entity_id}" if entry.entity_id else entry.entity


# Looking things up.


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str = ""  # part of who acted
    action: str = ""
    entity: str = ""
    entity_id: str = ""
    record: str = ""  # part of the record's label, or its id
    start: date | None = None  # WIB days, inclusive
    end: date | None = None


def _record_matches(text: str) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        AuditEntry.entity_label.icontains(text, autoescape=True)
    ]
    squeezed = text.replace(" ", "").replace("-", "")
    if squeezed.isdigit():  # a payment code typed without its spaces, or a record's id
        conditions.append(
            func.replace(AuditEntry.entity_label, " ", "").icontains(squeezed, autoescape=True)
        )
    number = text.removeprefix("#")
    if number.isdigit():
        conditions.append(AuditEntry.entity_id == number)
    return or_(*conditions)


def _filtered(filters: AuditFilter) -> Select[Any]:
    statement = select(AuditEntry)
    if filters.actor.strip():
        statement = statement.where(
            AuditEntry.actor.icontains(filters.actor.strip(), autoescape=True)
        )
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.entity:
        statement = statement.where(AuditEntry.entity == filters.entity)
    if filters.entity_id:
        statement = statement.where(AuditEntry.entity_id == filters.entity_id)
    if filters.record.strip():
        statement = statement.where(_record_matches(filters.record.strip()))
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


def all_entries(session: Session, filters: AuditFilter) -> Iterator[AuditEntry]:
    """Every matching entry, newest first, read a thousand at a time."""
    yield from session.scalars(_filtered(filters).execution_options(yield_per=1000))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def entities(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)))


# Downloads.

EXPORT_HEADER = (
    "id",
    "at_wib",
    "actor",
    "action",
    "entity",
    "entity_id",
    "record",
    "remote_addr",
    "changes",
    "before",
    "after",
)


def _changes_text(change: Diff) -> str:
    def shown(value: str | None) -> str:
        return "-" if value is None else value

    if change.kind == DiffKind.CREATED:
        return "; ".join(f"{c.field}: {shown(c.after)}" for c in change.changes)
    if change.kind == DiffKind.DELETED:
        return "; ".join(f"{c.field}: {shown(c.before)}" for c in change.changes)
    return "; ".join(f"{c.field}: {shown(c.before)} -> {shown(c.after)}" for c in change.changes)


def audit_table(rows: Iterable[AuditEntry]) -> Table:
    """The entries as a downloadable table (see ``services.reporting.spreadsheets.render``)."""

    def lines() -> Iterator[tuple[str | int | None, ...]]:
        for entry in rows:
            yield (
                entry.id,
                entry.at.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S"),
                entry.actor,
                entry.action,
                entry.entity,
                entry.entity_id,
                record_name(entry),
                entry.remote_addr,
                _changes_text(diff(entry)),
                entry.before,
                entry.after,
            )

    return Table(title="Audit log", header=EXPORT_HEADER, rows=lines())
