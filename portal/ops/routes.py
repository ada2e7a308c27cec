"""Health, readiness and metrics: JSON or Prometheus text, no session, no secrets."""

from __future__ import annotations

import hmac
import ipaddress
import os
from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Response, abort, current_app, jsonify, request
from flask_migrate import Migrate
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from portal.extensions import db
from portal.ops import bp
from portal.services.health import open_exception_count, readiness


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving; touches nothing else."""
    return jsonify(status="ok")


@cache
def _migrations_head(directory: str) -> str | None:
    return ScriptDirectory(directory).get_current_head()


def _head() -> str | None:
    migrate: Migrate = current_app.extensions["migrate"]
    return _migrations_head(str(Path(migrate.directory).resolve()))


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready for traffic: the database answers and its schema is at the code's migration head."""
    state = readiness(db.session)
    head = _head()
    ready = head is not None and state.at(head)
    body = jsonify(
        status="ready" if ready else "not ready",
        database="ok" if state.database else "unreachable",
        migrations="at head" if ready else ("behind" if state.database else "unknown"),
    )
    return body, 200 if ready else 503


class _OpenExceptions(Collector):
    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily(
            "payment_exceptions_open", "Payment exceptions waiting for a person"
        )
        gauge.add_metric([], open_exception_count(db.session))
        db.session.rollback()
        yield gauge


def _allowed() -> bool:
    config = current_app.config
    token = config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in config["METRICS_ALLOW_NETWORKS"])


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics, summed over every gunicorn worker (multiprocess mode)."""
    if not _allowed():
        abort(403)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)
    else:
        workers = REGISTRY
    database = CollectorRegistry()
    database.register(_OpenExceptions())
    return Response(
        generate_latest(workers) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST
    )
