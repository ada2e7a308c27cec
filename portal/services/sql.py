"""SQL idioms the services share across SQLite and PostgreSQL."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, FromClause, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.selectable import GenerativeSelect

from portal.services.session import Session

if TYPE_CHECKING:
    from sqlalchemy.sql._typing import _FromClauseArgument


@cache
def _insert_ignoring_conflict(
    dialect: str, table: Table, conflict_columns: tuple[str, ...]
) -> Insert:
    # Built once per table and dialect, with bind parameters for every column, so each call
    # only binds values: no statement construction or cache-key work on the hot path.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(table.c.id)
    )


def insert_unless_exists(
    executor: Session | Connection,
    table: FromClause,
    values: dict[str, Any],
    conflict_columns: list[str],
) -> int | None:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the new row's id, or None if a row
    with the same unique key exists. The database, not a prior read, decides who was first.

    Columns left out of ``values`` get their defaults. SQLAlchemy compiles the statement once
    per set of keys and reuses it.
    """
    assert isinstance(table, Table), "a model's __table__"
    connection = executor if isinstance(executor, Connection) else executor.connection()
    statement = _insert_ignoring_conflict(connection.dialect.name, table, tuple(conflict_columns))
    new_id: int | None = connection.execute(statement, values).scalar_one_or_none()
    return new_id


_Locking = TypeVar("_Locking", bound=GenerativeSelect)


def locked_for_writing(statement: _Locking, *, of: _FromClauseArgument | None = None) -> _Locking:
    """``statement`` locking the rows it reads until the transaction ends, as a writer of a
    bill (a payment, an import chunk) does.

    PostgreSQL: ``FOR NO KEY UPDATE``, the lock an UPDATE that changes no key takes itself. It
    excludes every other writer as ``FOR UPDATE`` would, but not ``FOR KEY SHARE``, the lock a
    new row's foreign key takes on the row it names: so an inquiry's log row, which names its
    bill, is never held up behind a payment or an import of that bill. SQLite has no row
    locks (a writer holds the whole database) and ignores it.
    """
    return statement.with_for_update(of=of, key_share=True)
