"""The reconciliation sweep as a periodic job: the consumer asks DOKU every 5 minutes."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab

from portal.api.commands import reconcile_recent
from portal.extensions import jobs

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
