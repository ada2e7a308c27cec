"""The DOKU API: the endpoints DOKU calls, and a simulator that plays DOKU's part."""

from flask import Blueprint

bp = Blueprint("doku", __name__, url_prefix="/doku", cli_group="doku")

from portal.api import commands, notifications, openapi, routes, simulator, tasks  # noqa: E402,F401  (registers views, commands, jobs)
