"""``flask doku prune``: drop refused deliveries and inquiry records past their retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from portal.api import bp
from portal.api.commands import parse_duration
from portal.extensions import db
from portal.services.traffic.retention import prune_traffic


@bp.cli.command("prune")
@click.option(
    "--older-than",
    default=None,
    help="Age of what goes (e.g. 90d); default DOKU_TRAFFIC_RETENTION_DAYS days.",
)
def prune(older_than: str | None) -> None:
    """Delete refused deliveries and inquiry records older than the retention; payments and
    authenticated notifications are kept forever."""
    age = (
        parse_duration(older_than)
        if older_than
        else timedelta(days=current_app.config["DOKU_TRAFFIC_RETENTION_DAYS"])
    )
    before = datetime.now(UTC) - age
    pruned = prune_traffic(db.session, before=before)
    db.session.commit()
    click.echo(
        f"Deleted {pruned.refused_deliveries} refused deliveries and {pruned.inquiries} "
        f"inquiry records received before {before:%Y-%m-%d %H:%M} UTC."
    )
