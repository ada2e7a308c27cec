"""The receipt footer and till info, laid out and checked exactly as an Alfa till prints them.

DOKU's guide: the footer is printed "1 line contain 40 character (fix length)", at most 120
characters, so the text is cut every 40 characters, wherever that falls, into at most 3 lines.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from portal.doku.limits import FOOTER_LINE_WIDTH as LINE_WIDTH
from portal.doku.limits import FOOTER_MESSAGE_MAX as FOOTER_MAX
from portal.doku.limits import INFO_MAX as INFO_MAX
from portal.services.messages import N_, Message, MessageError

__all__ = ["FOOTER_MAX", "INFO_MAX", "LINE_WIDTH", "ReceiptFooter", "ReceiptTextError"]


class ReceiptTextError(MessageError):
    """Text the till cannot print; the message says why, for a form or an import report."""


@dataclass(frozen=True, slots=True)
class ReceiptFooter:
    text: str
    lines: tuple[str, ...]
    # 1-based numbers of lines whose last word runs on to the next line.
    split_words_after: tuple[int, ...]


_UNPRINTABLE = {
    "Footer message": N_(
        "Footer message can only hold printable ASCII characters; character %(position)s "
        "(%(char)s) cannot be printed at the till."
    ),
    "Info": N_(
        "Info can only hold printable ASCII characters; character %(position)s (%(char)s) "
        "cannot be printed at the till."
    ),
}


def _check_printable(text: str, what: str) -> None:
    for position, char in enumerate(text, start=1):
        if not (" " <= char <= "~"):
            raise ReceiptTextError(
                Message.of(_UNPRINTABLE[what], position=position, char=repr(char))
            )


def layout_footer(text: str) -> ReceiptFooter:
    """Lay ``text`` out in lines of LINE_WIDTH as the till prints it, or raise
    ReceiptTextError."""
    if len(text) > FOOTER_MAX:
        raise ReceiptTextError(
            Message.of(
                N_("Footer message is %(length)s characters; the receipt holds at most %(max)s."),
                length=len(text),
                max=FOOTER_MAX,
            )
        )
    _check_printable(text, "Footer message")
    chunks = [text[i : i + LINE_WIDTH] for i in range(0, len(text), LINE_WIDTH)]
    splits = tuple(
        number
        for number, (line, following) in enumerate(itertools.pairwise(chunks), start=1)
        if line[-1] != " " and following[0] != " "
    )
    return ReceiptFooter(
        text=text, lines=tuple(c.ljust(LINE_WIDTH) for c in chunks), split_words_after=splits
    )


def effective_text(own: str | None, edited_default: str | None, configured: str) -> str:
    """The info or footer the till gets: the bill's own text, else the default staff edited in
    the back office, else the configured one. Inquiry, portal and back office all ask here."""
    if own is not None:
        return own
    return configured if edited_default is None else edited_default


def check_info(text: str) -> str:
    """Validate the info line shown at the till when the cashier looks the code up."""
    if len(text) > INFO_MAX:
        raise ReceiptTextError(
            Message.of(
                N_("Info is %(length)s characters; the till shows at most %(max)s."),
                length=len(text),
                max=INFO_MAX,
            )
        )
    _check_printable(text, "Info")
    return text
