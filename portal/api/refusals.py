"""Refused DOKU requests: counted per peer, and kept small.

Anyone on the internet can send an unsigned request. Each refused notification is kept (a
real payment signed with a wrong key must be visible to staff), but only what staff need:
time, peer address, Client-Id, Request-Id, the reason, the body's size and digest and a short
prefix. A peer whose requests keep failing the signature is answered 429 without storing or
logging each one, so a flood costs neither disk nor log volume; signed requests from that peer
are never refused for it, because only failures count.
"""

from __future__ import annotations

from flask import current_app, request
from limits import parse

from portal.extensions import limiter

_NAMESPACE = "doku-auth-failures"


def peer() -> str:
    return request.remote_addr or "unknown"


def over_failure_budget() -> bool:
    """Count one refused request from this peer; True once it is over
    ``DOKU_AUTH_FAILURE_LIMIT`` (shared by every worker through the limiter's storage)."""
    budget = parse(current_app.config["DOKU_AUTH_FAILURE_LIMIT"])
    return not limiter.limiter.hit(budget, _NAMESPACE, peer())
