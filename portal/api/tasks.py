"""Periodic DOKU jobs: the reconciliation sweep asks DOKU every 5 minutes; the nightly prune
ages traffic out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from huey import crontab

from portal.api.commands import reconcile_recent
from portal.extensions import db, jobs
from portal.services.traffic.retention import prune_traffic

log = logging.getLogger(__name__)

SWEEP_SINCE = timedelta(hours=2)


class ReconciliationIncomplete(RuntimeError):
    """Some bills could not be checked with DOKU; the next sweep tries them again."""


@jobs.periodic("doku.reconcile", crontab(minute="*/5"))
def reconcile_sweep() -> None:
    """Every 5 minutes: ``flask doku reconcile --since 2h``, through the queue."""
    result = reconcile_recent(SWEEP_SINCE)
    for text, is_error in result.lines:
        (log.warning if is_error else log.info)("reconciliation: %s", text)
    if result.failures:
        raise ReconciliationIncomplete(
            f"{result.failures} of {result.checked} bill(s) could not be checked: "
            + "; ".join(text for text, is_error in result.lines if is_error)
        )


@jobs.periodic("doku.prune", crontab(minute="17", hour="3"))
def prune_sweep() -> None:
    """Every night: refused deliveries and inquiry records past DOKU_TRAFFIC_RETENTION_DAYS go
    (``flask doku prune``); payments and authenticated notifications stay."""
    before = datetime.now(UTC) - timedelta(days=current_app.config["DOKU_TRAFFIC_RETENTION_DAYS"])
    pruned = prune_traffic(db.session, before=before)
    db.session.commit()
    log.info(
        "pruned %d refused deliveries and %d inquiry records",
        pruned.refused_deliveries, pruned.inquiries,
    )  # fmt: skip
