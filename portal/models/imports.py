"""Bill files from the core system: each import run, the rows it could not apply, and the
cursors of the incremental exports back to the core system."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, BigId, UTCDateTime, utcnow
from portal.models.billing import EMAIL_MAX, INVOICE_NUMBER_MAX


class StagedImport(Base):
    """The 0004 holding table for uploads between "check" and "confirm". Superseded by
    ``ImportRun`` (which keeps the file with its token); kept one release so servers still on
    the previous code keep working during a rolling deploy."""

    __tablename__ = "staged_imports"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportState(StrEnum):
    CHECKED = "checked"  # read and checked, waiting to be applied (an upload awaiting confirm)
    APPLYING = "applying"  # chunks are being committed; a run left here was cut off
    DONE = "done"
    REJECTED = "rejected"  # the file had errors; nothing was written
    SUPERSEDED = "superseded"  # cut off, then completed by a later run of the same file


class ImportRun(Base):
    """One bill file and what importing it did. The file is kept in the database (not on one
    machine's disk), so any app server or a background worker can apply it."""

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s.value}'" for s in ImportState) + ")", name="state"
        ),
        Index("ix_import_runs_sha256", "sha256"),
        Index("ix_import_runs_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # An upload waiting for its uploader's confirmation; NULL once taken (and for the CLI).
    token: Mapped[str | None] = mapped_column(String(32), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor: Mapped[str] = mapped_column(String(EMAIL_MAX))  # "cli" or the staff member's email
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    state: Mapped[str] = mapped_column(String(16), default=ImportState.CHECKED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    rows_applied: Mapped[int] = mapped_column(Integer, default=0)  # committed so far
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    policyholders_created: Mapped[int] = mapped_column(Integer, default=0)
    policies_created: Mapped[int] = mapped_column(Integer, default=0)
    # The earlier run of the same file that was cut off and that this run completed.
    completes_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    # JSON: the summaries of notes and errors shown in the report.
    summary: Mapped[str | None] = mapped_column(Text)

    conflict_rows: Mapped[list[ImportConflict]] = relationship(
        back_populates="run", order_by="ImportConflict.line"
    )


class ImportConflict(Base):
    """A row for a paid or cancelled bill that says something else than what is stored: not
    applied, kept for staff to take up with the core system."""

    __tablename__ = "import_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    invoice_number: Mapped[str] = mapped_column(String(INVOICE_NUMBER_MAX), index=True)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    bill_state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)  # which fields differ: stored -> in the file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[ImportRun] = relationship(back_populates="conflict_rows")


class ExportCursor(Base):
    """An incremental feed to the core system: locked by each run so two runs never hand over
    the same payment, with what the last run did."""

    __tablename__ = "export_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_payment_id: Mapped[int] = mapped_column(Integer, default=0)
    exported_total: Mapped[int] = mapped_column(Integer, default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExportedPayment(Base):
    """A payment handed over on a feed. Kept per payment rather than as a highest id: on
    PostgreSQL payments commit in any order, and one committed after a run with a lower id than
    the run saw would be skipped forever by a plain "id > last" cursor."""

    __tablename__ = "exported_payments"

    feed: Mapped[str] = mapped_column(ForeignKey("export_cursors.name"), primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
