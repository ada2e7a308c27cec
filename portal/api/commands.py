"""``flask doku reconcile``: for cron, ask DOKU about payments whose notification never came."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from portal.api import bp
from portal.api.status_client import DokuStatusClient, StatusLookupFailed
from portal.extensions import db
from portal.services.traffic.status_checks import apply_status, candidates

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match:
        raise click.BadParameter("use a number and s, m, h or d, e.g. 2h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    checked: int
    failures: int
    lines: tuple[tuple[str, bool], ...]  # (text, is an error)


def reconcile_recent(since: timedelta) -> ReconcileResult:
    """Ask DOKU about every unpaid bill with a successful inquiry within ``since``; apply each
    SUCCESS it reports exactly as a notification would be applied. Commits per bill."""
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
        since=since,
        delay=timedelta(seconds=config["DOKU_RECONCILE_DELAY_SECONDS"]),
    )
    db.session.rollback()
    failures = 0
    lines: list[tuple[str, bool]] = []
    for candidate in found:
        try:
            status = client.status(candidate.invoice_number)
        except StatusLookupFailed as exc:
            failures += 1
            lines.append((f"{candidate.invoice_number}: not checked: {exc}", True))
            continue
        if status is None:
            lines.append((f"{candidate.invoice_number}: unknown to DOKU", False))
            continue
        result = apply_status(db.session, candidate, status, now=datetime.now(UTC))
        db.session.commit()
        what = result.message if result is not None else "nothing to apply"
        lines.append((f"{candidate.invoice_number}: DOKU says {status.status}: {what}", False))
    return ReconcileResult(checked=len(found), failures=failures, lines=tuple(lines))


@bp.cli.command("reconcile")
@click.option(
    "--since", default="2h", show_default=True, help="How far back to look (e.g. 2h, 1d)."
)
def reconcile(since: str) -> None:
    """Apply payments DOKU reports as SUCCESS but never notified (Check Status API).

    The job consumer runs this every 5 minutes with --since 2h; this command is for cron
    instead, or to look further back (e.g. after restoring a backup)."""
    result = reconcile_recent(parse_duration(since))
    for text, is_error in result.lines:
        click.echo(text, err=is_error)
    click.echo(f"Checked {result.checked} bill(s); {result.failures} could not be checked.")
    if result.failures:
        raise SystemExit(1)
