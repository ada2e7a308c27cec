"""Shared by the benchmark's Python helpers: the app's settings, and a connection to the
benchmark's database (psycopg 3 on PostgreSQL, sqlite3 with the same ``%s`` placeholders on
SQLite)."""

from __future__ import annotations

import os
import sqlite3
from typing import Any


def conninfo() -> str:
    """``DATABASE_URL`` (SQLAlchemy form) as a libpq URL psycopg understands."""
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def app_config() -> dict[str, Any]:
    """The configuration the app itself would run with (defaults, instance file, environment)."""
    from portal import create_app

    app = create_app()
    return dict(app.config)


def is_sqlite() -> bool:
    return os.environ["DATABASE_URL"].startswith("sqlite")


def sqlite_path() -> str:
    return os.environ["DATABASE_URL"].split(":///", 1)[1]


class _SqliteConnection:
    """The little of psycopg's connection the helpers use, over sqlite3."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, timeout=30)

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.db.execute(sql.replace("%s", "?"), params)

    def __enter__(self) -> _SqliteConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.commit()
        self.db.close()


def connect() -> Any:
    """A connection to DATABASE_URL: ``with connect() as conn: conn.execute(sql, params)``."""
    if is_sqlite():
        return _SqliteConnection(sqlite_path())
    import psycopg

    return psycopg.connect(conninfo())


def now_sql() -> str:
    """SQL for "now" comparable with the app's stored UTC times."""
    return "datetime('now')" if is_sqlite() else "now()"
