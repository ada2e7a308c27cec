"""Emailing a policyholder the one-time link to activate the account or reset the password.

The portal serves the links at ``/activate/<token>`` and ``/reset/<token>``. Only jobs call this
(``portal.jobs.mail``): a web request enqueues the email, the job consumer sends it, and the
token is made when the email leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from portal.models import Policyholder
from portal.services.accounts.credentials import LinkSettings, make_link_token
from portal.services.contact import InsurerContact
from portal.services.mail import layout
from portal.services.mail.outbox import Email, MailSettings, send
from portal.services.wording import duration

Purpose = Literal["activate", "reset"]


@dataclass(frozen=True, slots=True)
class _Texts:
    subject: str
    intro: str
    button: str
    validity: str  # {duration}
    ignore: str


_TEXTS: dict[tuple[Purpose, str], _Texts] = {
    ("activate", "id"): _Texts(
        "Aktifkan akun portal premi Anda",
        "Akun Anda di portal pembayaran premi sudah dibuat. Buka tautan ini untuk membuat "
        "kata sandi.",
        "Buat kata sandi",
        "Tautan berlaku {duration} dan hanya dapat dipakai sekali.",
        "Abaikan email ini jika Anda tidak memintanya.",
    ),
    ("activate", "en"): _Texts(
        "Activate your premium payment portal account",
        "Your account on the premium payment portal has been created. Open this link to "
        "choose a password.",
        "Choose a password",
        "The link works for {duration} and only once.",
        "Ignore this email if you did not expect it.",
    ),
    ("reset", "id"): _Texts(
        "Atur ulang kata sandi portal premi",
        "Buka tautan ini untuk membuat kata sandi baru.",
        "Buat kata sandi baru",
        "Tautan berlaku {duration} dan hanya dapat dipakai sekali.",
        "Abaikan email ini jika Anda tidak memintanya; kata sandi Anda tidak berubah.",
    ),
    ("reset", "en"): _Texts(
        "Reset your premium portal password",
        "Open this link to choose a new password.",
        "Choose a new password",
        "The link works for {duration} and only once.",
        "Ignore this email if you did not ask for it; your password has not changed.",
    ),
}


@dataclass(frozen=True, slots=True)
class SentLink:
    url: str
    message_id: str


def account_link_email(
    holder: Policyholder, purpose: Purpose, url: str, *, max_age: timedelta,
    insurer: InsurerContact,
) -> Email:  # fmt: skip
    """The email carrying a one-time link, in the holder's language (Bahasa Indonesia unless
    set), branded, with the link's lifetime in words ("7 hari", not "168 jam")."""
    language = holder.language if holder.language in ("id", "en") else "id"
    texts = _TEXTS[(purpose, language)]
    message = layout.Message(
        subject=texts.subject,
        greeting=("Hello {name}," if language == "en" else "Halo {name},").format(name=holder.name),
        paragraphs=[texts.intro],
        action=(texts.button, url),
        closing=[texts.validity.format(duration=duration(max_age, language)), texts.ignore],
    )
    return layout.email(holder.email, message, insurer=insurer, language=language)


def send_account_link(
    holder: Policyholder,
    purpose: Purpose,
    *,
    base_url: str,
    link_settings: LinkSettings,
    mail_settings: MailSettings,
    insurer: InsurerContact,
) -> SentLink:
    """Email ``holder`` a fresh one-time link, in their language (Bahasa Indonesia unless set)."""
    token = make_link_token(holder, purpose, link_settings)
    url = f"{base_url.rstrip('/')}/{purpose}/{token}"
    email = account_link_email(
        holder, purpose, url, max_age=timedelta(seconds=link_settings.max_age_seconds),
        insurer=insurer,
    )  # fmt: skip
    message_id = send(mail_settings, email)
    return SentLink(url=url, message_id=message_id)
