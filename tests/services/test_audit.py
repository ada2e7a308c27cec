"""The audit service as the bill import uses it: many rows, an actor that is not a staff account,
labels read from the snapshots."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.models import AuditEntry
from portal.services.accounts import audit

ROWS = 20_000


def test_recording_20000_import_rows_reads_nothing_and_writes_them_at_the_commit(
    session: Session,
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    actor = "import:bills-november.csv by ani@insurer.example"
    moment = datetime.now(UTC)
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        for n in range(ROWS):
            audit.record(
                session, actor=actor, action="bill.update", entity="bill", entity_id=n,
                before={"invoice_number": f"INV-{n:05d}", "amount": 150_000},
                after={"invoice_number": f"INV-{n:05d}", "amount": 175_000}, now=moment,
            )  # fmt: skip
        session.commit()
        elapsed = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # Nothing is read per row, and the rows go at the commit: on PostgreSQL in batches of
    # many rows; SQLite cannot return batched ids in order, so there it is one INSERT a row.
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == []
    most = ROWS // 500 if engine.dialect.name == "postgresql" else ROWS
    assert 1 <= len(inserts) <= most
    assert elapsed < 60  # about 2 s here; a row that cost more with every row before would not be
    written = select(func.count(AuditEntry.id)).where(AuditEntry.actor == actor)
    assert session.scalar(written) == ROWS
    last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert last is not None and last.entity_label == f"INV-{ROWS - 1:05d}"
    assert [(c.field, c.before, c.after) for c in audit.diff(last).changes] == [
        ("amount", "150000", "175000")
    ]


def test_an_actor_or_label_longer_than_the_column_is_cut_not_refused(session: Session) -> None:
    actor = "import:" + "x" * 200 + ".csv by " + "a" * 120 + "@insurer.example"
    entry = audit.record(
        session, actor=actor, action="bills.import", entity="import", entity_id=None,
        before=None, after={"filename": "f" * 500}, now=datetime.now(UTC),
    )  # fmt: skip
    session.commit()
    assert entry.actor == actor[:400]
    assert entry.entity_label == "f" * 200


def test_a_label_given_by_the_caller_wins_over_the_snapshot(session: Session) -> None:
    entry = audit.record(
        session, actor="cli", action="bill.update", entity="bill", entity_id=1,
        before={"invoice_number": "OLD"}, after=None, entity_label="INV-NEW",
        now=datetime.now(UTC),
    )  # fmt: skip
    session.commit()
    assert entry.entity_label == "INV-NEW"
