"""Holding an uploaded bill file between the staff member's "check" and "confirm"."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.models import StagedImport

MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Staged:
    filename: str
    text: str


def stage(session: Session, *, text: str, filename: str, staff_id: int, now: datetime) -> str:
    """Keep a checked file for its uploader; returns the token to confirm it with."""
    session.execute(delete(StagedImport).where(StagedImport.created_at < now - MAX_AGE))
    token = secrets.token_hex(16)
    session.add(
        StagedImport(
            token=token, staff_id=staff_id, filename=filename, content=text, created_at=now
        )
    )
    session.flush()
    return token


def take(session: Session, *, token: str, staff_id: int, now: datetime) -> Staged | None:
    """Remove and return the file, if this staff member staged it and it is fresh.

    Taking is one DELETE ... RETURNING, so two confirmations of one upload cannot both get
    it; if the import then fails, rolling back puts the file back.
    """
    row = session.execute(
        delete(StagedImport)
        .where(
            StagedImport.token == token,
            StagedImport.staff_id == staff_id,
            StagedImport.created_at >= now - MAX_AGE,
        )
        .returning(StagedImport.filename, StagedImport.content)
    ).first()
    return Staged(filename=row.filename, text=row.content) if row else None
