"""One look for every email to policyholders: the insurer's brand, the message, a button to
the portal, and the insurer's contacts and licence line; as HTML and as plain text.

The HTML is a single centred table with inline styles, since mail programs drop style sheets;
every value is escaped. The plain-text part says the same, for mail programs that show no HTML
and for people who prefer it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import escape

from portal.services.contact import InsurerContact
from portal.services.mail.outbox import Email

_BRAND = "#0a4d8c"
_INK = "#1b1f24"
_MUTED = "#4a5561"

_WORDS = {
    "id": {"call": "Telepon", "email": "Email", "why": "Anda menerima email ini karena "
           "Anda pemegang polis {insurer}."},
    "en": {"call": "Call", "email": "Email", "why": "You receive this email because you hold "
           "a policy with {insurer}."},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Message:
    """What an email says, before it is laid out."""

    subject: str
    greeting: str
    paragraphs: Sequence[str]
    facts: Sequence[tuple[str, str]] = field(default_factory=tuple)
    # The button to the portal: its label and the absolute URL.
    action: tuple[str, str] | None = None
    closing: Sequence[str] = field(default_factory=tuple)


def _contacts(insurer: InsurerContact, language: str) -> list[str]:
    words = _WORDS[language]
    lines = [f"{words['call']} {insurer.phone}"]
    if insurer.whatsapp:
        lines.append(f"WhatsApp {insurer.whatsapp}")
    lines.append(f"{words['email']} {insurer.email}")
    return lines


def plain_text(message: Message, *, insurer: InsurerContact, language: str) -> str:
    parts = [message.greeting, *message.paragraphs]
    if message.facts:
        width = max(len(label) for label, _ in message.facts)
        parts.append("\n".join(f"{label.ljust(width)} : {value}" for label, value in message.facts))
    if message.action is not None:
        label, url = message.action
        parts.append(f"{label}:\n{url}")
    parts.extend(message.closing)
    footer = [insurer.name, " · ".join(_contacts(insurer, language))]
    if insurer.licence:
        footer.append(insurer.licence)
    footer.append(_WORDS[language]["why"].format(insurer=insurer.name))
    return "\n\n".join(parts) + "\n\n-- \n" + "\n".join(footer) + "\n"


def html(
    message: Message, *, insurer: InsurerContact, language: str, logo_url: str | None = None
) -> str:
    def p(text: str, style: str = "") -> str:
        return f'<p style="margin:0 0 14px;{style}">{escape(text)}</p>'

    logo = (
        f'<img src="{escape(logo_url)}" width="32" height="32" alt="" '
        'style="vertical-align:middle;margin-right:10px;border:0">'
        if logo_url
        else ""
    )
    rows = "".join(
        f'<tr><td style="padding:4px 12px 4px 0;color:{_MUTED};font-size:14px">{escape(label)}'
        f'</td><td style="padding:4px 0;font-weight:bold">{escape(value)}</td></tr>'
        for label, value in message.facts
    )
    table = '<table role="presentation" style="border-collapse:collapse;margin:0 0 18px">'
    facts = f"{table}{rows}</table>" if rows else ""
    button = ""
    if message.action is not None:
        label, url = message.action
        button = (
            f'<p style="margin:0 0 18px"><a href="{escape(url)}" style="display:inline-block;'
            f"background:{_BRAND};color:#ffffff;text-decoration:none;font-weight:bold;"
            f'padding:12px 20px;border-radius:6px">{escape(label)}</a></p>'
            f'<p style="margin:0 0 14px;font-size:13px;color:{_MUTED};word-break:break-all">'
            f"{escape(url)}</p>"
        )
    contacts = " &middot; ".join(str(escape(line)) for line in _contacts(insurer, language))
    licence = f"<br>{escape(insurer.licence)}" if insurer.licence else ""
    why = escape(_WORDS[language]["why"].format(insurer=insurer.name))
    body = "".join(p(text) for text in message.paragraphs)
    closing = "".join(p(text) for text in message.closing)
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(message.subject)}</title></head>"
        f'<body style="margin:0;padding:0;background:#f4f6f8;color:{_INK};'
        f'font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5">'
        f'<main><table role="presentation" width="100%" style="border-collapse:collapse">'
        f'<tr><td align="center" style="padding:16px 8px">'
        f'<table role="presentation" width="100%" style="max-width:560px;border-collapse:collapse;'
        f'background:#ffffff;border:1px solid #c9d1d9">'
        f'<tr><td style="background:{_BRAND};color:#ffffff;padding:14px 20px;font-size:18px;'
        f'font-weight:bold">{logo}{escape(insurer.name)}</td></tr>'
        f'<tr><td style="padding:20px"><h1 style="font-size:20px;line-height:1.3;margin:0 0 16px">'
        f"{escape(message.subject)}</h1>{p(message.greeting)}{body}{facts}{button}{closing}"
        f"</td></tr>"
        f'<tr><td style="padding:14px 20px;border-top:1px solid #c9d1d9;color:{_MUTED};'
        f'font-size:13px"><strong>{escape(insurer.name)}</strong><br>{contacts}{licence}'
        f"<br><br>{why}</td></tr>"
        f"</table></td></tr></table></main></body></html>"
    )


def email(
    to: str,
    message: Message,
    *,
    insurer: InsurerContact,
    language: str,
    logo_url: str | None = None,
) -> Email:
    """The message as an email with a plain-text part and an HTML alternative."""
    language = "en" if language == "en" else "id"
    return Email(
        to=to,
        subject=message.subject,
        text=plain_text(message, insurer=insurer, language=language),
        html=html(message, insurer=insurer, language=language, logo_url=logo_url),
    )
