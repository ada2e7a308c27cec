"""Every email the app sends, as jobs: the request (or the sweep) only enqueues.

A send that fails (mail server down, refused) is tried again with a growing delay: 1, 2, 4 ...
minutes, 8 retries over about four hours; after that the job waits for staff on the back
office's Jobs page.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from flask import current_app
from huey import crontab

from portal.extensions import db, jobs
from portal.models import Policyholder
from portal.services.accounts.links import send_account_link
from portal.services.billing import statements
from portal.services.contact import insurer_contact
from portal.services.mail import reminders
from portal.services.mail.outbox import Email, send
from portal.services.mail.reminders import ReminderSettings
from portal.web import link_settings, mail_settings

log = logging.getLogger(__name__)

MAIL_RETRIES = 8
MAIL_RETRY_DELAY = 60  # seconds before the first retry
MAIL_RETRY_BACKOFF = 2  # each wait twice the one before
MAIL_ERRORS = (OSError, smtplib.SMTPException)


def public_base_url() -> str:
    """Links in emails start here (``PUBLIC_BASE_URL``), never at a request's Host header."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        raise RuntimeError("PUBLIC_BASE_URL is not set: links in emails cannot be built")
    return str(base)


def _send_link(holder: Policyholder, purpose: Literal["activate", "reset"]) -> None:
    send_account_link(
        holder,
        purpose,
        base_url=public_base_url(),
        link_settings=link_settings(purpose),
        mail_settings=mail_settings(),
        insurer=insurer_contact(current_app.config),
    )


@jobs.task("mail.activation_link", retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY,
           retry_backoff=MAIL_RETRY_BACKOFF)  # fmt: skip
def send_activation_link(holder_id: int) -> None:
    """Email a policyholder a fresh activation link (made when sent, so it is never stale)."""
    holder = db.session.get(Policyholder, holder_id)
    db.session.rollback()  # nothing to write; do not hold SQLite's lock while mailing
    if holder is None:
        log.info("activation link not sent: policyholder %s no longer exists", holder_id)
        return
    _send_link(holder, "activate")


@jobs.task("mail.password_reset", retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY,
           retry_backoff=MAIL_RETRY_BACKOFF)  # fmt: skip
def send_password_reset(email: str) -> None:
    """Email a reset link to whoever has this address, if anyone does.

    The lookup happens here, not in the request, so ``/forgot`` does the same work and
    answers in the same time whether the address is known or not.
    """
    holder = statements.policyholder_by_email(db.session, email)
    db.session.rollback()
    if holder is None:
        log.info("password reset asked for an address with no account")
        return
    _send_link(holder, "reset")


@jobs.task("mail.notice", retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY,
           retry_backoff=MAIL_RETRY_BACKOFF)  # fmt: skip
def send_notice(
    bill_id: int, kind: str, to: str, subject: str, text: str, html: str | None = None
) -> None:
    """A receipt or reminder, claimed already by the sweep that queued it (so sent once).
    ``html`` defaults to None so jobs queued before emails had an HTML part still run."""
    send(mail_settings(), Email(to=to, subject=subject, text=text, html=html))
    log.info("notice %s for bill %s sent", kind, bill_id)


@dataclass(frozen=True, slots=True)
class SweepResult:
    sent: int = 0
    queued: int = 0
    failed: int = 0
    problems: tuple[str, ...] = ()


def reminder_settings() -> ReminderSettings:
    return ReminderSettings.from_config(current_app.config)


def sweep_notices(*, send_now: bool) -> SweepResult:
    """Claim every receipt and reminder due now and queue it (or, ``send_now``, send it here).

    Which notices are due is ``reminders.due_notices``; this only decides how they go out. A
    claim is committed before the email leaves, so overlapping sweeps send each once. Sent
    here, a failure gives the claim back for the next sweep; queued, the job retries itself.
    """
    now = datetime.now(UTC)
    notices = reminders.due_notices(db.session, now=now, settings=reminder_settings())
    db.session.rollback()
    sent = queued = failed = 0
    problems: list[str] = []
    for notice in notices:
        if not reminders.claim(db.session, notice, now=now):
            db.session.rollback()
            continue  # another sweep has it
        db.session.commit()
        email = reminders.compose(
            notice, base_url=public_base_url(), insurer=insurer_contact(current_app.config),
            now=now,
        )  # fmt: skip
        try:
            if send_now:
                send(mail_settings(), email)
            else:
                send_notice.enqueue(notice.bill_id, notice.kind.value, email.to, email.subject,
                                    email.text, email.html)  # fmt: skip
        except Exception as exc:
            if send_now and not isinstance(exc, MAIL_ERRORS):
                raise
            reminders.release(db.session, notice)
            db.session.commit()
            failed += 1
            problems.append(f"bill {notice.bill_id} {notice.kind}: not sent: {exc}")
            continue
        if send_now:
            sent += 1
        else:
            queued += 1
    return SweepResult(sent=sent, queued=queued, failed=failed, problems=tuple(problems))


class SweepIncomplete(RuntimeError):
    """Some notices could not be queued; they are tried again by the next sweep."""


@jobs.periodic("reminders.sweep", crontab(minute="*/5"))
def reminders_sweep() -> None:
    """Every 5 minutes: queue the receipts and reminders that are due."""
    result = sweep_notices(send_now=False)
    log.info("reminder sweep: %d email(s) queued", result.queued)
    if result.failed:
        raise SweepIncomplete("; ".join(result.problems))
