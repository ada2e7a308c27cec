"""Helpers shared by the staff views: who is acting, refusing viewers, error pages, dates,
paging, the receipt text in force, a service's message in the reader's language (``say``),
and saving a form's change (``submit_form``, ``submit_action``).

View modules import from here, never from each other or from ``routes``; the package
(``portal.admin``) imports every view module once, so nothing imports in a circle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from portal.extensions import db
from portal.models import StaffUser
from portal.services.billing import receipt_defaults
from portal.services.billing.changes import BillingError
from portal.services.billing.money import format_rupiah
from portal.services.billing.payability import REASONS
from portal.services.billing.receipt import FOOTER_MAX, LINE_WIDTH, ReceiptTextError, layout_footer
from portal.services.billing.validation import InvalidFields
from portal.services.messages import N_, Message, MessageError, Template, read_back
from portal.services.sorting import Sort, SortColumns
from portal.services.traffic.payments import DETAILS

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


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


# What services say, in the reader's language.


def say(value: object) -> str:
    """A service's message (a ``Message``, its stored dict, an error carrying one) translated
    with the back office's catalog; the plain text of an older row as it is (translated when
    it is a msgid, e.g. a fixed sentence)."""
    if isinstance(value, MessageError):
        value = value.message
    message = Message.stored(value)
    if isinstance(message, Message):
        return message.render(_, format_rupiah)
    return _(message) if message else ""


_TRAFFIC_TEXTS = (*REASONS, *DETAILS)

# What the import jobs report as they go. A job runs in the consumer, outside any request and
# its language, so it writes the English sentence; the job's page reads it back and shows it
# in the reader's language.
CHECKING = Template(N_("checking %(file)s"))
CHECK_ACCEPTED = Template(N_("%(rows)s rows can be imported"))
CHECK_REFUSED = Template(N_("%(problems)s problem(s): nothing was imported"))
APPLYING = Template(N_("%(done)s of %(total)s rows applied"))
NO_LONGER_FITS = Template(
    N_("The file no longer fits what is stored (%(problems)s problem(s)): nothing was imported.")
)
IMPORTED = Template(
    N_(
        "Imported %(rows)s rows from %(file)s: created %(created)s, updated %(updated)s, "
        "unchanged %(unchanged)s, skipped %(skipped)s, conflicts %(conflicts)s."
    )
)
_JOB_TEXTS = (CHECKING, CHECK_ACCEPTED, CHECK_REFUSED, APPLYING, NO_LONGER_FITS, IMPORTED)


def say_job(recorded: str | None) -> str:
    """A job's progress message, in the reader's language (any other text as it is)."""
    return say(read_back(recorded or "", _JOB_TEXTS))


def say_traffic(recorded: str | None) -> str:
    """A reason or detail DOKU's traffic recorded as an English sentence (an inquiry's
    reason, an exception's detail, old rows too), read back and translated."""
    return say(read_back(recorded or "", _TRAFFIC_TEXTS))


# Error pages.

ERROR_TEXTS: dict[int, tuple[LazyString, LazyString]] = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("Your account can look but not change anything here.")),
    404: (_l("Not found"), _l("There is no such page or record.")),
    409: (_l("Not possible"), _l("This change is not possible.")),
    429: (
        _l("Too many attempts"),
        _l(
            "Too many login attempts from here or for this account. Wait a few minutes, then "
            "try again."
        ),
    ),
}
OTHER_ERROR = (_l("Error"), _l("Something went wrong."))


def error_page(status: int, message: str | None = None, back: str | None = None) -> Response:
    title, text = ERROR_TEXTS.get(status, OTHER_ERROR)
    body = render_template(
        "admin/error.html",
        status=status,
        title=str(title),
        message=message or str(text),
        back=back,
    )
    return Response(body, status=status, mimetype="text/html")


# Query arguments.

# Days the date filters accept: beyond them a typo (``9999-12-31``) is refused.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
# A page number past this is a typo or a probe; paginate() also stops at the last page.
PAGE_MAX = 1_000_000


def page_arg() -> int:
    number = request.args.get("page", 1, type=int) or 1
    return min(max(1, number), PAGE_MAX)


def sort_arg(columns: SortColumns) -> Sort:
    """``?sort=&dir=`` for a list sorted by ``columns``; an unknown column is ignored."""
    return columns.read(request.args.get("sort"), request.args.get("dir"))


def sort_links(columns: SortColumns, current: Sort) -> dict[str, str]:
    """Each sortable column's header link: this list with its filters, sorted by that column
    (the other way round if it already is), from the first page."""
    args: dict[str, Any] = {
        k: v for k, v in request.args.items() if k not in ("page", "sort", "dir")
    }
    return {
        key: url_for(
            str(request.endpoint), **{**args, **columns.arguments(columns.flipped(current, key))}
        )
        for key in columns.columns
    }


def date_arg(name: str) -> date | None:
    """A ``YYYY-MM-DD`` query argument; anything else, or a day outside FIRST_DAY..LAST_DAY,
    is a 400 that says so."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=_("'%(name)s' must be a day written YYYY-MM-DD.", name=name))
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(
            400,
            description=_(
                "'%(name)s' must be a day between %(first)s and %(last)s.",
                name=name,
                first=str(FIRST_DAY),
                last=str(LAST_DAY),
            ),
        )
    return day


# Receipt text: the defaults in force and a footer as the till prints it.


@dataclass(frozen=True, slots=True)
class FooterPreview:
    """What the page shows under a footer field; rendered on the server, redrawn by admin.js."""

    lines: tuple[str, ...]
    length: int
    error: str | None
    split_words_after: tuple[int, ...]
    width: int = LINE_WIDTH
    maximum: int = FOOTER_MAX


def footer_preview(text: str) -> FooterPreview:
    try:
        footer = layout_footer(text)
    except ReceiptTextError as exc:
        return FooterPreview(lines=(), length=len(text), error=say(exc), split_words_after=())
    return FooterPreview(
        lines=footer.lines, length=len(text), error=None, split_words_after=footer.split_words_after
    )


def effective_defaults() -> receipt_defaults.EffectiveDefaults:
    return receipt_defaults.effective(
        db.session,
        configured_info=current_app.config["DEFAULT_INFO"],
        configured_footer=current_app.config["DEFAULT_FOOTER_MESSAGE"],
    )


# Saving a change: validate, call the service, roll back or commit, flash, redirect.

Done = Callable[[T], tuple[str, str]]  # the change's result -> (flash message, where to go)


def required(value: T | None) -> T:
    """A value the form's ``DataRequired`` has vouched for, typed as present."""
    assert value is not None, "the form validated this field as required"
    return value


def show_field_errors(form: FlaskForm, exc: InvalidFields) -> None:
    """Put a service's ``InvalidFields`` onto the form's fields (or the form itself)."""
    for name, problems in exc.errors.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, *map(say, problems)]
        else:
            form.form_errors.extend(map(say, problems))


def form_errors_text(form: FlaskForm) -> str:
    """Every problem of a form in one sentence, for an error page."""
    problems = [str(p) for ps in form.errors.values() for p in ps]
    return " ".join(problems) or _("The request could not be understood.")


def _commit(
    change: Callable[[], T],
    done: Done[T],
    *,
    back: str | None,
    on_invalid: Callable[[InvalidFields], Response | None],
) -> Response | None:
    try:
        result = change()
    except InvalidFields as exc:
        db.session.rollback()
        return on_invalid(exc)
    except BillingError as exc:  # the record's state refuses the change
        db.session.rollback()
        return error_page(409, say(exc), back=back)
    db.session.commit()
    message, target = done(result)
    flash(message, "success")
    return redirect(target)


def submit_form(
    form: FlaskForm, change: Callable[[], T], done: Done[T], *, back: str | None = None
) -> Response | None:
    """A page with a form. ``None`` means: show the page (again), with the form's errors,
    which are the form's own checks or the rules the service found broken; a change the
    record's state refuses is the 409 page, linking to ``back``."""
    if not form.validate_on_submit():
        return None

    def on_invalid(exc: InvalidFields) -> None:
        show_field_errors(form, exc)

    return _commit(change, done, back=back, on_invalid=on_invalid)


def submit_action(
    form: FlaskForm,
    change: Callable[[], T],
    done: Done[T],
    *,
    back: str,
    invalid_status: int = 400,
) -> Response:
    """A button on a record's page: every refusal is an error page linking ``back`` (a bad
    form 400, a broken rule ``invalid_status``, a state that refuses the change 409)."""
    if not form.validate_on_submit():
        return error_page(400, form_errors_text(form), back=back)

    def on_invalid(exc: InvalidFields) -> Response:
        return error_page(invalid_status, " ".join(map(say, exc.problems())), back=back)

    response = _commit(change, done, back=back, on_invalid=on_invalid)
    assert response is not None  # on_invalid always answers
    return response
