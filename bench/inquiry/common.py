"""Shared by the benchmark's Python helpers: the app's settings and a psycopg conninfo."""

from __future__ import annotations

import os
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
