"""Emailing a policyholder the one-time link to activate the account or reset the password.

The portal serves the links at ``/activate/<token>`` and ``/reset/<token>``. Only jobs call this
(``portal.jobs.mail``): a web request enqueues the email, the job consumer sends it, and the
token is made when the email leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from portal.models import Policyholder
from portal.services.accounts.credentials import LinkSettings, make_link_token
from portal.services.mail.outbox import Email, MailSettings, send

Purpose = Literal["activate", "reset"]

_TEXTS: dict[tuple[Purpose, str], tuple[str, str]] = {
    ("activate", "id"): (
        "Aktifkan akun portal premi Anda",
        "Halo {name},\n\nAkun Anda di portal pembayaran premi sudah dibuat. Buka tautan ini "
        "untuk membuat kata sandi:\n\n{link}\n\nTautan berlaku {hours} jam dan hanya dapat "
        "dipakai sekali. Abaikan email ini jika Anda tidak memintanya.\n",
    ),
    ("activate", "en"): (
        "Activate your premium payment portal account",
        "Hello {name},\n\nYour account on the premium payment portal has been created. Open "
        "this link to choose a password:\n\n{link}\n\nThe link works for {hours} hours and "
        "only once. Ignore this email if you did not expect it.\n",
    ),
    ("reset", "id"): (
        "Atur ulang kata sandi portal premi",
        "Halo {name},\n\nBuka tautan ini untuk membuat kata sandi baru:\n\n{link}\n\n"
        "Tautan berlaku {hours} jam dan hanya dapat dipakai sekali. Abaikan email ini jika "
        "Anda tidak memintanya; kata sandi Anda tidak berubah.\n",
    ),
    ("reset", "en"): (
        "Reset your premium portal password",
        "Hello {name},\n\nOpen this link to choose a new password:\n\n{link}\n\n"
        "The link works for {hours} hours and only once. Ignore this email if you did not ask "
        "for it; your password has not changed.\n",
    ),
}


@dataclass(frozen=True, slots=True)
class SentLink:
    url: str
    message_id: str


def send_account_link(
    holder: Policyholder,
    purpose: Purpose,
    *,
    base_url: str,
    link_settings: LinkSettings,
    mail_settings: MailSettings,
) -> SentLink:
    """Email ``holder`` a fresh one-time link, in their language (Bahasa Indonesia unless set)."""
    token = make_link_token(holder, purpose, link_settings)
    url = f"{base_url.rstrip('/')}/{purpose}/{token}"
    language = holder.language if holder.language in ("id", "en") else "id"
    subject, body = _TEXTS[(purpose, language)]
    hours = max(1, link_settings.max_age_seconds // 3600)
    message_id = send(
        mail_settings,
        Email(
            to=holder.email,
            subject=subject,
            text=body.format(name=holder.name, link=url, hours=hours),
        ),
    )
    return SentLink(url=url, message_id=message_id)
