"""Is the database reachable, and is its schema the one this code expects?"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from portal.models import PaymentException
from portal.services.session import Session


@dataclass(frozen=True, slots=True)
class Readiness:
    database: bool
    schema_revision: str | None

    def at(self, head: str) -> bool:
        return self.database and self.schema_revision == head


def readiness(session: Session) -> Readiness:
    """One short query; never raises (a broken database is an answer, not an error)."""
    try:
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        session.rollback()
        try:
            session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            session.rollback()
            return Readiness(database=False, schema_revision=None)
        session.rollback()
        return Readiness(database=True, schema_revision=None)
    session.rollback()
    return Readiness(database=True, schema_revision=revision)


def open_exception_count(session: Session) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(PaymentException)
        .where(PaymentException.resolved_at.is_(None))
    )
    return int(count or 0)
