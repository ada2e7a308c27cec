"""The insurer's back office for staff, under /admin."""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates", cli_group="admin")

from portal.admin import routes  # noqa: E402,F401  (registers the views and commands)
