"""Sending email: through SMTP when one is configured, else into a file outbox.

With no SMTP server configured (development), each message is written as an ``.eml`` file
under the outbox folder and its subject and recipient are logged, so links can be followed
offline.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MailSettings:
    server: str | None
    port: int
    use_tls: bool  # STARTTLS after connecting
    use_ssl: bool  # TLS from the first byte (port 465)
    username: str | None
    password: str | None
    sender: str
    outbox: Path
    timeout: float = 20.0


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None


def build(settings: MailSettings, email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1].strip("> "))
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def send(settings: MailSettings, email: Email) -> str:
    """Send one message; returns its Message-ID. Raises ``OSError``/``smtplib`` errors."""
    message = build(settings, email)
    if not settings.server:
        settings.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (settings.outbox / name).write_bytes(bytes(message))
        log.info("mail written to outbox %s: to %s, subject %r", name, email.to, email.subject)
        return str(message["Message-ID"])
    context = ssl.create_default_context()
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    with client:
        if settings.use_tls and not settings.use_ssl:
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
        client.send_message(message)
    log.info("mail sent: to %s, subject %r", email.to, email.subject)
    return str(message["Message-ID"])
