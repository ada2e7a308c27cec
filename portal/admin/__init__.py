"""The insurer's back office for staff, under /admin.

The blueprint is made here, then every module that adds views or commands to it is imported
once, below; they share helpers through ``portal.admin.common`` and never import each other's
views.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates", cli_group="admin")

from portal.admin import (  # noqa: E402,F401  (register the views and commands)
    audit_log,
    billing,
    cli,
    exports,
    imports,
    jobs,
    monitoring,
    receipts,
    routes,
)
