"""Policyholder pages: log in, the dashboard, a bill to pay at the store, payments, receipts."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import (
    force_locale,
    format_timedelta,
    get_locale,
    ngettext,
)
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from portal import login_throttle
from portal.extensions import db, limiter
from portal.jobs.mail import send_password_reset
from portal.models import Policyholder, utcnow
from portal.policyholder import bp
from portal.policyholder.forms import (
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    SetPasswordForm,
)
from portal.services import wording
from portal.services.accounts.audit import LoginArea, LoginEvent
from portal.services.accounts.credentials import (
    PASSWORD_MIN,
    LinkInvalid,
    PasswordRejected,
    account_from_link,
    authenticate_policyholder,
    end_sessions,
    personal_words,
    set_password,
)
from portal.services.billing import statements
from portal.services.billing.barcodes import code128_svg, qr_svg
from portal.services.billing.chains import CHAINS, Chain, chosen_chain
from portal.services.billing.money import format_rupiah
from portal.services.billing.payment_codes import code_groups, grouped_code
from portal.services.contact import InsurerContact, insurer_contact
from portal.services.traffic.inquiries import InquiryRules
from portal.web import LANGUAGE_COOKIE, audit_login, link_settings, remember_language, safe_next

if TYPE_CHECKING:
    from portal.services.billing import pdf

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])


# --- who is logged in ---------------------------------------------------------------------


def current_holder() -> Policyholder | None:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if isinstance(user, Policyholder) else None


def _holder() -> Policyholder:
    holder = current_holder()
    assert holder is not None  # guaranteed by policyholder_required
    return holder


def _here() -> str:
    """This page's path and query, to come back to after logging in or switching language."""
    query = request.query_string.decode("utf-8", "replace")
    return request.script_root + request.path + (f"?{query}" if query else "")


def policyholder_required(view: View) -> View:
    """Anonymous visitors go to the login page, which brings them back afterwards.

    Our own check instead of ``login_required``: Flask-Login would flash its own English
    message, shared with the staff area.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_holder() is None:
            return redirect(url_for(".login", next=_here()))
        return view(*args, **kwargs)

    return cast(View, wrapped)


# --- formatting for the templates ---------------------------------------------------------


def _language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def long_date(value: date | datetime) -> str:
    """``21 Mei 2026`` / ``21 May 2026``; a datetime is first moved to WIB (as in emails)."""
    return wording.long_date(value, _language())


def wib(value: datetime) -> str:
    """``21 Mei 2026, 16.59 WIB`` / ``21 May 2026, 16:59 WIB`` (as in emails)."""
    return wording.wib_time(value, _language())


def time_left(expires_at: datetime, now: datetime) -> str:
    seconds = int((expires_at - now).total_seconds())
    if seconds <= 0:
        return str(_("expired"))
    days, rest = divmod(seconds, 86400)
    if days >= 2:
        return str(ngettext("%(num)d day left", "%(num)d days left", days))
    hours = days * 24 + rest // 3600
    if hours >= 1:
        return str(ngettext("%(num)d hour left", "%(num)d hours left", hours))
    return str(ngettext("%(num)d minute left", "%(num)d minutes left", max(1, rest // 60)))


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "rupiah": format_rupiah,
        "long_date": long_date,
        "wib": wib,
        "grouped": code_groups,
        "page_language": _language(),
        "languages": current_app.config["LANGUAGES"],
        "here": _here(),
        "holder": current_holder(),
        "insurer": insurer_contact(current_app.config),
        "alfa_min_amount": current_app.config["ALFA_MIN_AMOUNT"],
        "alfa_max_amount": current_app.config["ALFA_MAX_AMOUNT"],
    }


@bp.after_request
def _no_store(response: Response) -> Response:
    # Bills, codes and receipts are personal: no copy in a shared browser's cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- errors -------------------------------------------------------------------------------


@bp.errorhandler(HTTPException)
def _error_page(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc
    db.session.rollback()
    title, message = _("Something went wrong"), _("Please try again in a moment.")
    if isinstance(exc, CSRFError):
        title = _("This form has expired")
        message = _("Go back, reload the page and try again.")
    elif isinstance(exc, RateLimitExceeded):
        title = _("Too many attempts")
        wait = format_timedelta(timedelta(seconds=exc.limit.limit.get_expiry()), threshold=1)
        message = _("For your security, please wait %(wait)s before trying again.", wait=wait)
    elif exc.code == 404:
        title = _("Page not found")
        message = _("This page does not exist, or it is not yours.")
    elif exc.code == 400:
        title = _("Bad request")
        message = _("The request could not be understood. Go back and try again.")
    return render_template("policyholder/error.html", title=title, message=message), exc.code


# --- logging in and out -------------------------------------------------------------------


_audit_login = functools.partial(audit_login, LoginArea.POLICYHOLDER)


def _address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()[:128]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Only failed attempts count, per address and per address and account
    (portal.login_throttle): a family behind one mobile carrier address is not locked out by
    each other's logins, and nobody can lock anyone else out of their account."""
    if current_holder() is not None:
        return redirect(url_for(".dashboard"))
    form = LoginForm()
    if request.method == "POST":
        email = request.form.get("email", "")
        wait = login_throttle.wait_seconds("policyholder", email)
        if wait is not None:
            return _locked_out(email, wait)
    if form.validate_on_submit():
        holder = authenticate_policyholder(
            db.session, form.email.data or "", form.password.data or "", now=utcnow()
        )
        if holder is not None:
            chosen = request.cookies.get(LANGUAGE_COOKIE)
            if holder.language is None and chosen in current_app.config["LANGUAGES"]:
                holder.language = chosen
            _audit_login(LoginEvent.LOGIN, holder.email, holder)
            db.session.commit()
            login_user(holder, remember=bool(form.remember.data))
            response = redirect(safe_next(request.args.get("next")) or url_for(".dashboard"))
            return remember_language(response, holder.language or _language())
        _audit_login(LoginEvent.LOGIN_FAILED, form.email.data or "", None)
        db.session.commit()
        left = login_throttle.count_failure("policyholder", form.email.data or "")
        flash(_("The email or password is not right."), "error")
        if 0 < left <= login_throttle.WARN_REMAINING:
            flash(ngettext("%(num)d attempt left before a pause.",
                           "%(num)d attempts left before a pause.", left), "error")  # fmt: skip
        return render_template("policyholder/login.html", form=form, refused=True)
    return render_template("policyholder/login.html", form=form, refused=False)


def _locked_out(email: str, wait: int) -> Any:
    _audit_login(LoginEvent.LOCKOUT, email, None)
    db.session.commit()
    waiting = format_timedelta(timedelta(seconds=wait), threshold=1)
    return render_template(
        "policyholder/error.html",
        title=_("Too many attempts"),
        message=_("For your security, please wait %(wait)s before trying again.", wait=waiting),
        forgot=True,
    ), 429


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    # CSRFProtect checked the form's token before this view runs.
    holder = current_holder()
    if holder is not None:
        _audit_login(LoginEvent.LOGOUT, holder.email, holder)
        end_sessions(holder)  # a copied session or remember-me cookie stops working too
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for(".login"))


# --- one-time links: activate the account, reset the password -----------------------------


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], scope="forgot-address")
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], scope="forgot-account")
def forgot() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The job looks the address up, so a known and an unknown one cost the same here.
        try:
            send_password_reset.enqueue(form.email.data or "")
        except Exception:
            # Same answer whatever happens; staff see the failure in the log.
            log.exception("could not queue a password reset email")
        db.session.rollback()
        return render_template("policyholder/forgot_sent.html")
    return render_template("policyholder/forgot.html", form=form)


def _set_password_page(token: str, purpose: Literal["activate", "reset"]) -> Any:
    try:
        holder = account_from_link(db.session, token, purpose, link_settings(purpose))
    except LinkInvalid as exc:
        db.session.rollback()
        status = 410 if exc.reason == "expired" else 400
        return render_template(
            "policyholder/link_invalid.html", purpose=purpose, reason=exc.reason
        ), status
    form = SetPasswordForm()
    form.personal = personal_words(holder)
    if form.validate_on_submit():
        try:
            set_password(holder, form.password.data or "", now=utcnow())
        except PasswordRejected:  # the form checks the same rules first
            form.password.errors = [*form.password.errors, _("Choose another password.")]
        else:
            holder.last_login_at = utcnow()
            db.session.commit()
            logout_user()
            login_user(holder)
            if purpose == "activate":
                flash(_("Your account is active. Welcome!"), "info")
            else:
                flash(_("Your new password is set."), "info")
            return redirect(url_for(".dashboard"))
    # The visitor is not logged in yet: unless the browser chose a language, speak the one
    # the link's email was written in.
    language = request.cookies.get(LANGUAGE_COOKIE)
    if language not in current_app.config["LANGUAGES"]:
        language = holder.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        return render_template(
            "policyholder/set_password.html",
            form=form,
            purpose=purpose,
            account=holder,
            password_min=PASSWORD_MIN,
        )


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str) -> Any:
    return _set_password_page(token, "activate")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    return _set_password_page(token, "reset")


# --- language -----------------------------------------------------------------------------


@bp.route("/language", methods=["POST"])
def language() -> Any:
    form = LanguageForm()
    chosen = form.language.data
    if chosen not in current_app.config["LANGUAGES"]:
        abort(400)
    holder = current_holder()
    if holder is not None:
        holder.language = chosen
        db.session.commit()
    response = redirect(safe_next(form.next.data) or url_for(".dashboard"))
    return remember_language(response, chosen)


# --- what is owed, and what was paid ------------------------------------------------------


def _rules() -> InquiryRules:
    rules: InquiryRules = current_app.extensions["inquiry_rules"]  # built once, in create_app
    return rules


@bp.route("/")
@policyholder_required
def dashboard() -> Any:
    now = utcnow()
    dash = statements.dashboard_of(db.session, _holder().id, now=now, rules=_rules().payability)
    return render_template("policyholder/dashboard.html", dash=dash, now=now, time_left=time_left)


@bp.route("/bills/<int:bill_id>")
@policyholder_required
def bill(bill_id: int) -> Any:
    now = utcnow()
    detail = statements.bill_of(db.session, _holder().id, bill_id, now=now, rules=_rules())
    if detail is None:
        abort(404)
    code = detail.summary.payment_code
    barcode = qr = None
    if detail.can_pay and code is not None:
        # Our own markup: digits and an escaped title only.
        barcode = Markup(code128_svg(code, title=_("Barcode of payment code %(code)s", code=code)))  # noqa: S704
        qr = Markup(qr_svg(code, title=_("QR code of payment code %(code)s", code=code)))  # noqa: S704
    return render_template(
        "policyholder/bill.html",
        bill=detail,
        now=now,
        time_left=time_left,
        barcode=barcode,
        qr=qr,
        chains=CHAINS,
        # The chain whose steps show first: ``?chain=`` (a link can pick it), else Alfamart.
        chosen_chain=chosen_chain(request.args.get("chain")).slug,
        steps={chain.slug: payment_steps(chain, detail) for chain in CHAINS},
    )


def payment_steps(chain: Chain, detail: statements.BillDetail) -> list[str]:
    """How to pay ``detail`` at ``chain``, in the reader's language: the bill page's steps and
    the PDF slip's, from the one list in services/billing/chains."""
    s = detail.summary
    values = {
        "chain": chain.name,
        "code": grouped_code(s.payment_code),
        "name": detail.customer_name,
        "amount": format_rupiah(s.amount),
        "info": detail.info,
    }
    return [_(step, **values) for step in chain.steps]


def _pdf_response(document: bytes, filename: str) -> Response:
    response = Response(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe_filename(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:60] or "document"


def _labels(insurer: InsurerContact) -> pdf.Labels:
    from portal.services.billing import pdf

    return pdf.Labels(
        slip_title=_("Pay at an Alfa Group store"),
        receipt_title=_("Payment receipt"),
        payment_code=_("Payment code"),
        amount=_("Amount"),
        pay_before=_("Pay before"),
        name=_("Name"),
        policy=_("Policy"),
        invoice=_("Invoice"),
        due_date=_("Due date"),
        paid_at=_("Paid at"),
        store=_("Paid at the store"),
        reference=_("Transaction reference"),
        footer_title=_("The receipt will end with"),
        received_note=_(
            "The premium was received in cash at the store named above and passed on to us by DOKU."
        ),
        contact=_(
            "Questions? Call %(phone)s or email %(email)s.",
            phone=insurer.phone,
            email=insurer.email,
        ),
    )


def _brand() -> pdf.Brand:
    from portal.services.billing import pdf

    insurer = insurer_contact(current_app.config)
    logo = None
    if insurer.logo and current_app.static_folder:
        candidate = Path(current_app.static_folder) / insurer.logo
        logo = candidate if candidate.is_file() else None
    return pdf.Brand(insurer=insurer, logo=logo, labels=_labels(insurer))


@bp.route("/bills/<int:bill_id>/slip.pdf")
@policyholder_required
def bill_pdf(bill_id: int) -> Any:
    """The payment slip as a PDF, built here (not the browser's print): only while payable;
    with the steps of the chain ``?chain=`` names, as the bill page shows them."""
    # fpdf2 (with Pillow and fontTools) loads when a PDF is asked for, not at every start-up.
    from portal.services.billing import pdf

    now = utcnow()
    detail = statements.bill_of(db.session, _holder().id, bill_id, now=now, rules=_rules())
    if detail is None or not detail.can_pay or detail.summary.payment_code is None:
        abort(404)
    s = detail.summary
    chain = chosen_chain(request.args.get("chain"))
    document = pdf.slip_pdf(
        pdf.SlipContent(
            code=s.payment_code or "",
            amount=format_rupiah(s.amount),
            pay_before=wib(s.expires_at) if s.expires_at else "",
            name=detail.customer_name,
            policy=f"{detail.policy_type} · {detail.policy_number}",
            invoice=s.invoice_number,
            due_date=long_date(s.due_date),
            footer_lines=detail.footer.lines,
            steps_title=_("How to pay at %(chain)s", chain=chain.name),
            steps=payment_steps(chain, detail),
        ),
        brand=_brand(),
    )
    return _pdf_response(document, f"slip-{_safe_filename(s.invoice_number)}.pdf")


@bp.route("/payments/<int:payment_id>/receipt.pdf")
@policyholder_required
def receipt_pdf(payment_id: int) -> Any:
    from portal.services.billing import pdf

    record = statements.payment_of(db.session, _holder().id, payment_id)
    if record is None:
        abort(404)
    store = record.chain or _("Alfa Group store")
    if record.store:
        store += " · " + _("store %(store)s", store=record.store)
    document = pdf.receipt_pdf(
        pdf.ReceiptContent(
            amount=format_rupiah(record.amount),
            paid_at=wib(record.paid_at),
            name=record.customer_name,
            policy=f"{record.policy_type} · {record.policy_number}",
            invoice=record.invoice_number,
            code=record.payment_code,
            store=store,
            reference=record.transaction_reference or "–",
        ),
        brand=_brand(),
    )
    return _pdf_response(document, f"receipt-{_safe_filename(record.invoice_number)}.pdf")


@bp.route("/payments")
@policyholder_required
def payments() -> Any:
    records = statements.payments_of(db.session, _holder().id)
    return render_template("policyholder/payments.html", payments=records)


@bp.route("/payments/<int:payment_id>")
@policyholder_required
def receipt(payment_id: int) -> Any:
    record = statements.payment_of(db.session, _holder().id, payment_id)
    if record is None:
        abort(404)
    return render_template("policyholder/receipt.html", payment=record)
