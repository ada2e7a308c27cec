"""Helpers shared by the staff views: who is acting, refusing viewers, dates, paging."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar, cast

from flask import abort, request
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.models import StaffUser
from portal.services.billing.payment_codes import WIB
from portal.services.billing.validation import InvalidFields

F = TypeVar("F", bound=Callable[..., Any])


def now() -> datetime:
    return datetime.now(UTC)


def staff() -> StaffUser:
    """The staff member behind this request (the blueprint lets nobody else in)."""
    user = current_user._get_current_object()
    assert isinstance(user, StaffUser)
    return user


def write_required(view: F) -> F:
    """Viewers may look at everything and change nothing: 403."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not staff().can_write:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


# Days the date filters accept: beyond them a typo (``9999-12-31``) is refused.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
# A page number past this is a typo or a probe; paginate() also stops at the last page.
PAGE_MAX = 1_000_000


def page_arg() -> int:
    number = request.args.get("page", 1, type=int) or 1
    return min(max(1, number), PAGE_MAX)


def date_arg(name: str) -> date | None:
    """A ``YYYY-MM-DD`` query argument; anything else, or a day outside FIRST_DAY..LAST_DAY,
    is a 400 that says so."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"'{name}' must be a day written YYYY-MM-DD.")
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(400, description=f"'{name}' must be a day between {FIRST_DAY} and {LAST_DAY}.")
    return day


def end_of_day_wib(day: date) -> datetime:
    """A date typed by staff means "until the end of that day in Jakarta", stored in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=WIB).astimezone(UTC)


def show_field_errors(form: FlaskForm, exc: InvalidFields) -> None:
    """Put a service's ``InvalidFields`` onto the form's fields (or the form itself)."""
    for name, problems in exc.errors.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, *problems]
        else:
            form.form_errors.extend(problems)
