"""CPU per DOKU request in one process, without gunicorn, wrk or sockets: a comparison of two
versions of the code that a busy machine disturbs far less than req/s (``time.process_time``
counts this process's own CPU only; PostgreSQL's is not in it).

Each request is built and signed by the test factories (``tests/factories.py``), so the figure
includes the client's share (signing, Flask's test client): compare versions, not absolutes.

    PYTHONPATH=<code> .venv/bin/python bench/inprocess.py inquiry|notification DATABASE_URL [N]

DATABASE_URL must name an empty database (a SQLite file path or a fresh PostgreSQL database);
``PYTHONPATH`` picks the code measured (e.g. a ``git archive`` of another commit).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-inprocess-"))
sys.path.append(str(Path(__file__).resolve().parents[1]))  # for tests.factories

from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from tests.factories import (
    CLIENT_ID,
    SECRET_KEY,
    inquire,
    live_code,
    make_bill,
    notification_body_for,
    notify,
)


def main() -> None:
    kind, url = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    app = create_app(
        {
            "SECRET_KEY": "bench-only",
            "DOKU_CLIENT_ID": CLIENT_ID,
            "DOKU_SECRET_KEY": SECRET_KEY,
            "PUBLIC_BASE_URL": "http://localhost",
            "SQLALCHEMY_DATABASE_URI": url,
            "JOBS_IMMEDIATE": True,
            "LOG_LEVEL": "WARNING",
        }
    )
    warmup = 100
    with app.app_context():
        upgrade()
        if kind == "inquiry":
            codes = [live_code(make_bill(db.session)) for _ in range(50)]
        else:
            bodies = [notification_body_for(make_bill(db.session)) for _ in range(n + warmup)]
        db.session.commit()
    client = app.test_client()

    def one(i: int) -> int:
        if kind == "inquiry":
            return inquire(client, codes[i % len(codes)]).status_code
        return notify(client, bodies[i]).status_code

    for i in range(warmup):
        assert one(i) == 200
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(warmup, warmup + n):
        assert one(i) == 200
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    import portal

    print(
        f"{kind}: {n} requests, {1000 * cpu / n:.3f} ms CPU/request, {1000 * wall / n:.3f} ms "
        f"wall/request (code: {Path(portal.__file__).parent})"
    )


if __name__ == "__main__":
    main()
