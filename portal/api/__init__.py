"""The DOKU API: the endpoints DOKU calls, and a simulator that plays DOKU's part."""

from flask import Blueprint

bp = Blueprint("doku", __name__, url_prefix="/doku", cli_group="doku")
bp.cli.help = (
    "DOKU: play DOKU's part against this app (inquire, pay), show the credentials, and "
    "reconcile payments through DOKU's Check Status API."
)

from portal.api import (  # noqa: E402,F401  (registers views, commands, jobs)
    commands,
    notifications,
    openapi,
    retention,
    routes,
    simulator,
    tasks,
)
