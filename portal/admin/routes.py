"""Staff pages: logging in, the guard on every other page, the dashboard, error handlers.

The other pages live in ``billing``, ``imports``, ``receipts``, ``monitoring``, ``jobs``,
``exports`` and ``audit_log`` (the package imports them all); each view parses its form, calls
a service, commits once and renders. Helpers they share are in ``common``.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from portal import login_throttle
from portal.admin import bp
from portal.admin.common import error_page, now, say, say_job, say_traffic
from portal.admin.exception_guide import kind_label
from portal.admin.forms import ActionForm, LanguageForm, LoginForm
from portal.extensions import db, login_manager
from portal.models import StaffUser
from portal.services.accounts.audit import LoginArea, LoginEvent
from portal.services.accounts.credentials import authenticate_staff, end_sessions
from portal.services.billing.money import format_rupiah
from portal.services.billing.payability import PayabilityRules
from portal.services.billing.payment_codes import WIB, grouped_code
from portal.services.reporting.dashboard import summary
from portal.web import ADMIN_PREFIX, audit_login, remember_language, safe_next

# Pages anyone may open: the login page itself.
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.language"})
# Posting these does not change billing data, so viewers may too.
VIEWER_POSTS = frozenset({"admin.login", "admin.logout", "admin.language"})


# When the staff session began and last saw a request (Unix seconds, in the signed session).
SESSION_STARTED, SESSION_SEEN = "staff_since", "staff_seen"


@bp.before_request
def require_staff() -> Any:
    """Every page but the login needs a staff session; every change needs an admin.

    ``load_account`` only accepts staff ids under /admin, so a policyholder's session is
    anonymous here and goes to the staff login like anyone else.
    """
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not (current_user.is_authenticated and isinstance(current_user, StaffUser)):
        return login_manager.unauthorized()
    if _session_over():
        logout_user()
        session.clear()
        flash(_("Your session ended; please log in again."), "info")
        return login_manager.unauthorized()
    changing = request.method not in ("GET", "HEAD", "OPTIONS")
    if changing and request.endpoint not in VIEWER_POSTS and not current_user.can_write:
        return error_page(403)
    return None


def _session_over() -> bool:
    """A staff session ends after STAFF_IDLE_MINUTES without a request, and
    STAFF_SESSION_HOURS after the login, whatever happens in between."""
    moment = time.time()
    config = current_app.config
    started = session.get(SESSION_STARTED)
    seen = session.get(SESSION_SEEN, started)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return True
    if moment - seen > config["STAFF_IDLE_MINUTES"] * 60:
        return True
    if moment - started > config["STAFF_SESSION_HOURS"] * 3600:
        return True
    session[SESSION_SEEN] = int(moment)
    return False


def _wib(moment: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in Jakarta time, with its zone: ``2026-05-21 16:59 WIB``."""
    if moment is None:
        return "-"
    return f"{moment.astimezone(WIB).strftime(pattern)} WIB"


def _grouped(code: str | None) -> str:
    return grouped_code(code) or "-"


def _here() -> str:
    """This page's path and query, to come back to after switching language."""
    return request.full_path.rstrip("?") if request.query_string else request.path


def _page_url(number: int) -> str:
    """This page's URL with its filters, at page ``number``."""
    args: dict[str, Any] = {**request.args.to_dict(), **(request.view_args or {})}
    args["page"] = number
    return url_for(str(request.endpoint), **args)


@bp.context_processor
def admin_helpers() -> dict[str, Any]:
    user = current_user
    return {
        "wib": _wib,
        "rupiah": format_rupiah,
        "grouped": _grouped,
        "can_write": bool(isinstance(user, StaffUser) and user.can_write),
        "logout_form": ActionForm(),
        "language_form": LanguageForm(),
        "page_language": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
        "languages": current_app.config["LANGUAGES"],
        "here": _here(),
        "page_url": _page_url,
        "kind_label": kind_label,
        "say": say,
        "say_traffic": say_traffic,
        "say_job": say_job,
    }


@bp.after_request
def _no_store(response: Response) -> Response:
    # Staff pages show customers' data: no copy in a shared browser's or proxy's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError) -> Response:
    return error_page(
        400,
        _(
            "The form was too old or not sent from this site (%(reason)s). Reload the page "
            "and try again.",
            reason=exc.description,
        ),
    )


@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(429)
def http_error(exc: HTTPException) -> Response:
    return error_page(exc.code or 500)


# Logging in and out.


_audit_login = functools.partial(audit_login, LoginArea.STAFF)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Only failures count, per address and per address and account (portal.login_throttle):
    an office behind one address does not lock itself out, nor can anyone lock a colleague
    out of their account."""
    if isinstance(current_user, StaffUser) and current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if request.method == "POST":
        wait = login_throttle.wait_seconds("staff", request.form.get("email", ""))
        if wait is not None:
            return _locked_out(request.form.get("email", ""), wait)
    if form.validate_on_submit():
        staff = authenticate_staff(
            db.session, form.email.data or "", form.password.data or "", now=now()
        )
        if staff is not None:
            _audit_login(LoginEvent.LOGIN, staff.email, staff)
            db.session.commit()
            target = safe_next(request.args.get("next"), area=ADMIN_PREFIX) or url_for(
                "admin.dashboard"
            )
            session.clear()  # nothing from before the login carries over
            login_user(staff)
            session[SESSION_STARTED] = session[SESSION_SEEN] = int(time.time())
            return redirect(target)
        db.session.rollback()
        _audit_login(LoginEvent.LOGIN_FAILED, form.email.data or "", None)
        db.session.commit()
        left = login_throttle.count_failure("staff", form.email.data or "")
        flash(_("Wrong email or password."), "error")
        if 0 < left <= login_throttle.WARN_REMAINING:
            flash(
                ngettext(
                    "%(num)d attempt left before a pause.",
                    "%(num)d attempts left before a pause.",
                    left,
                ),
                "error",
            )
    return render_template("admin/login.html", form=form)


def _locked_out(email: str, wait: int) -> Response:
    _audit_login(LoginEvent.LOCKOUT, email, None)
    db.session.commit()
    minutes = max(1, round(wait / 60))
    return error_page(
        429,
        ngettext(
            "Too many login attempts from this address. Wait %(num)d minute and try again; if "
            "you forgot your password, an administrator can set a new one (flask admin "
            "password EMAIL).",
            "Too many login attempts from this address. Wait %(num)d minutes and try again; if "
            "you forgot your password, an administrator can set a new one (flask admin "
            "password EMAIL).",
            minutes,
        ),
        back=url_for("admin.login"),
    )


@bp.route("/language", methods=["POST"])
def language() -> Response:
    """Bahasa Indonesia or English, remembered in the browser's language cookie."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return error_page(400)
    chosen = form.language.data
    if chosen not in current_app.config["LANGUAGES"]:
        return error_page(400)
    target = safe_next(form.next.data, area=ADMIN_PREFIX) or url_for("admin.dashboard")
    return remember_language(redirect(target), chosen)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    user = current_user._get_current_object()  # require_staff let only staff in
    _audit_login(LoginEvent.LOGOUT, user.email, user)
    end_sessions(user)  # a copied cookie stops working too
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("admin.login"))


@bp.route("/")
def dashboard() -> str:
    rules = PayabilityRules.from_config(current_app.config)
    return render_template(
        "admin/dashboard.html", board=summary(db.session, now=now(), rules=rules)
    )
