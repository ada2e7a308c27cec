"""Throttling password guesses: limit the attacker, never lock the victim out.

Only failed attempts count. Two budgets, both in the limiter's shared storage (Redis in
production, so every worker and server counts together):

- per address (``LOGIN_LIMIT_PER_ADDRESS``): one address guessing many accounts;
- per address *and* account (``LOGIN_LIMIT_PER_ACCOUNT``): one address guessing one
  account. Several windows make the waits grow ("5 per 10 minutes; 10 per hour; 20 per day").

The account itself is never locked: its owner, from another address, logs in as usual while
someone elsewhere is refused. The page says how many attempts are left, and how long to wait.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse_many

from portal.extensions import limiter

NAMESPACE = "login-failures"
# Say how many attempts are left once this few remain.
WARN_REMAINING = 3


@dataclass(frozen=True, slots=True)
class Budget:
    item: RateLimitItem
    identifiers: tuple[str, ...]
    per_account: bool


def _budgets(area: str, email: str) -> Iterator[Budget]:
    address = request.remote_addr or "unknown"
    account = email.strip().lower()[:128]
    # The limiter's storage is used directly here, so its key prefix is applied here too:
    # two deployments sharing one Redis keep their own counts.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    scope = (prefix, NAMESPACE, area)
    for item in parse_many(current_app.config["LOGIN_LIMIT_PER_ADDRESS"]):
        yield Budget(item, (*scope, "address", address), per_account=False)
    for item in parse_many(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]):
        yield Budget(item, (*scope, "pair", address, account), per_account=True)


def wait_seconds(area: str, email: str) -> int | None:
    """How long this address must wait before trying ``email`` again; None: it may try now."""
    strategy = limiter.limiter
    waits = []
    for budget in _budgets(area, email):
        if not strategy.test(budget.item, *budget.identifiers):
            reset_at, _ = strategy.get_window_stats(budget.item, *budget.identifiers)
            waits.append(max(1, math.ceil(reset_at - time.time())))
    return max(waits) if waits else None


def count_failure(area: str, email: str) -> int:
    """Count a failed attempt; returns the attempts this address has left on ``email``."""
    strategy = limiter.limiter
    remaining = []
    for budget in _budgets(area, email):
        strategy.hit(budget.item, *budget.identifiers)
        _, left = strategy.get_window_stats(budget.item, *budget.identifiers)
        remaining.append(left)
    return min(remaining) if remaining else 0
