"""SQL idioms the services share across SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_unless_exists(
    session: Session, table: Table, values: dict[str, Any], conflict_columns: list[str]
) -> int | None:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the new row's id, or None if a row
    with the same unique key exists. The database, not a prior read, decides who was first."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(table.c.id)
    )
    new_id: int | None = session.execute(statement).scalar_one_or_none()
    return new_id
