"""Background jobs as staff see them: jobs that kept failing, and long jobs' progress."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, BigId, UTCDateTime, utcnow

ERROR_MAX = 2000


class JobFailure(Base):
    """A job that failed its last attempt (every retry used up). Kept in our database, not in
    the queue's storage, so it survives whichever storage is used and waits for a person."""

    __tablename__ = "job_failures"
    __table_args__ = (Index("ix_job_failures_failed_at", "failed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(64))  # the queue's id of the failed attempt
    task_name: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[str] = mapped_column(Text)  # JSON: {"args": [...], "kwargs": {...}}
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retried_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobRun(Base):
    """Progress of one long job started from the web, for a page that survives a reload."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s.value}'" for s in RunState) + ")", name="state"
        ),
        CheckConstraint("done >= 0 AND total >= 0", name="counts"),
        Index("ix_job_runs_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=RunState.QUEUED.value)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.state in (RunState.DONE, RunState.FAILED)
