"""The policyholder portal: log in, see policies and bills, pay them at an Alfa Group store."""

from flask import Blueprint

bp = Blueprint("policyholder", __name__, template_folder="templates")

from portal.policyholder import routes  # noqa: E402,F401  (registers the views)
