"""Endpoints for load balancers and monitoring: /healthz, /readyz, /metrics."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from portal.ops import routes  # noqa: E402,F401  (registers the views)
