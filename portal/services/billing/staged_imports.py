"""Holding an uploaded bill file between the staff member's "check" and "confirm".

The file waits as an ``ImportRun`` in the ``checked`` state under a random token, for the
staff member who sent it only, so any app server (or a background worker) can apply it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from portal.models import ImportRun, ImportState, StaffUser
from portal.services.billing.imports import create_run
from portal.services.session import Session

MAX_AGE = timedelta(hours=24)


def stage(session: Session, *, data: bytes, filename: str, staff: StaffUser, now: datetime) -> str:
    """Keep a checked file for its uploader; returns the token to confirm it with.

    Uploads nobody confirmed within ``MAX_AGE`` are removed (their runs never started).
    """
    session.execute(
        delete(ImportRun).where(
            ImportRun.state == ImportState.CHECKED,
            ImportRun.token.is_not(None),
            ImportRun.created_at < now - MAX_AGE,
        )
    )
    token = secrets.token_hex(16)
    create_run(session, data, filename=filename, actor=staff, now=now, token=token)
    return token


def waiting(session: Session, *, token: str, staff_id: int, now: datetime) -> ImportRun | None:
    """The staged run for this token and staff member, if it still waits (not taken)."""
    return session.scalar(
        select(ImportRun).where(
            ImportRun.token == token,
            ImportRun.staff_id == staff_id,
            ImportRun.state == ImportState.CHECKED,
            ImportRun.created_at >= now - MAX_AGE,
        )
    )


def take(session: Session, *, token: str, staff_id: int, now: datetime) -> int | None:
    """The waiting run's id, if this staff member staged it and it is fresh; the token is used
    up at once.

    Taking is one UPDATE ... RETURNING, so two confirmations of one upload cannot both get
    it; if applying then fails before the first commit, rolling back puts the token back.
    """
    return session.execute(
        update(ImportRun)
        .where(
            ImportRun.token == token,
            ImportRun.staff_id == staff_id,
            ImportRun.state == ImportState.CHECKED,
            ImportRun.created_at >= now - MAX_AGE,
        )
        .values(token=None)
        .returning(ImportRun.id)
    ).scalar_one_or_none()
