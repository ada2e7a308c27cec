"""``flask doku reconcile``: for cron, ask DOKU about payments whose notification never came."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from portal.api import bp
from portal.api.status_client import DokuStatusClient, StatusLookupFailed
from portal.extensions import db
from portal.services.reconciliation import apply_status, candidates

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match:
        raise click.BadParameter("use a number and s, m, h or d, e.g. 2h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@bp.cli.command("reconcile")
@click.option(
    "--since", default="2h", show_default=True, help="How far back to look (e.g. 2h, 1d)."
)
def reconcile(since: str) -> None:
    """Apply payments DOKU reports as SUCCESS but never notified (Check Status API)."""
    config = current_app.config
    client = DokuStatusClient(
        base_url=config["DOKU_API_BASE_URL"],
        client_id=config["DOKU_CLIENT_ID"],
        secret_key=config["DOKU_SECRET_KEY"],
    )
    now = datetime.now(UTC)
    found = candidates(
        db.session,
        now=now,
        since=parse_duration(since),
        delay=timedelta(seconds=config["DOKU_RECONCILE_DELAY_SECONDS"]),
    )
    db.session.rollback()
    failures = 0
    for candidate in found:
        try:
            status = client.status(candidate.invoice_number)
        except StatusLookupFailed as exc:
            failures += 1
            click.echo(f"{candidate.invoice_number}: not checked: {exc}", err=True)
            continue
        if status is None:
            click.echo(f"{candidate.invoice_number}: unknown to DOKU")
            continue
        result = apply_status(db.session, candidate, status, now=datetime.now(UTC))
        db.session.commit()
        what = result.message if result is not None else "nothing to apply"
        click.echo(f"{candidate.invoice_number}: DOKU says {status.status}: {what}")
    click.echo(f"Checked {len(found)} bill(s); {failures} could not be checked.")
    if failures:
        raise SystemExit(1)
