"""Texts the services hand to people: an English msgid with named placeholders and its values.

Services never import Flask, so they cannot know the reader's language. They raise or return a
:class:`Message` instead of a finished sentence, and whoever shows it translates it then: the
back office with its catalog (domain "admin", in the reader's language), the command line and
the logs in English (``str(message)``, the very sentence the service always wrote). Stored
messages (job results, import summaries) keep ``as_dict()``, so a page translates them when it
is read; :meth:`Message.stored` also takes the plain text older rows hold. Where a row keeps
only the English sentence (an inquiry's reason, an exception's detail), the :class:`Template`
that wrote it reads it back.

``N_`` marks a msgid for extraction (babel-admin.cfg reads ``portal/services``) and returns it
unchanged; the back office's catalog test fails while a marked msgid lacks its translation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Param = str | int


def N_(text: str) -> str:
    """Mark ``text`` as a msgid of the back office's catalog; translated where it is shown."""
    return text


@dataclass(frozen=True, slots=True)
class Message:
    """An English msgid with ``%(name)s`` placeholders and their values (hashable, so reports
    can group by it). ``money`` names the values that are whole rupiah, which a page writes
    as ``Rp 150.000``; ``str()`` writes them as the digits the command line always showed."""

    text: str
    params: tuple[tuple[str, Param], ...] = ()
    money: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, *, money: Iterable[str] = (), **params: Param) -> Message:
        return cls(text, tuple(params.items()), tuple(money))

    def values(self) -> dict[str, Param]:
        return dict(self.params)

    def render(self, translate: Callable[[str], str], rupiah: Callable[[int], str]) -> str:
        """The sentence in the reader's language: ``translate`` is the catalog's gettext."""
        text = translate(self.text)
        if not self.params:
            return text
        values = {
            name: rupiah(value) if name in self.money and isinstance(value, int) else value
            for name, value in self.params
        }
        return text % values

    def __str__(self) -> str:
        return self.text % self.values() if self.params else self.text

    def as_dict(self) -> dict[str, Any]:
        """What a JSON column or job result keeps (``stored`` reads it back)."""
        stored: dict[str, Any] = {"text": self.text, "params": self.values()}
        if self.money:
            stored["money"] = list(self.money)
        return stored

    @classmethod
    def stored(cls, value: object) -> Message | str:
        """A message as kept by ``as_dict``, or the plain text an older row holds (as is)."""
        if isinstance(value, Message):
            return value
        if isinstance(value, Mapping) and isinstance(value.get("text"), str):
            params = value.get("params") or {}
            return cls(
                value["text"],
                tuple((str(k), v) for k, v in dict(params).items()),
                tuple(str(m) for m in value.get("money") or ()),
            )
        return "" if value is None else str(value)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@functools.cache
def _pattern(text: str) -> re.Pattern[str]:
    parts, position = [], 0
    for placeholder in _PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[position : placeholder.start()]))
        parts.append(f"(?P<{placeholder.group(1)}>.+?)")
        position = placeholder.end()
    parts.append(re.escape(text[position:]))
    return re.compile("".join(parts), re.S)


@dataclass(frozen=True, slots=True)
class Template:
    """A msgid that makes messages, and reads its own English sentences back into them.

    Some rows keep only the English sentence (an inquiry's reason, an exception's detail,
    every row written before messages were kept whole); the page reads the sentence back
    with the template that wrote it and translates that, so old and new rows alike are shown
    in the reader's language. A sentence no template wrote is shown as it is.
    """

    text: str
    money: tuple[str, ...] = ()

    def __call__(self, **params: Param) -> Message:
        return Message(self.text, tuple(params.items()), self.money)

    def read(self, sentence: str) -> Message | None:
        found = _pattern(self.text).fullmatch(sentence)
        if found is None:
            return None
        values: dict[str, Param] = dict(found.groupdict())
        for name in self.money:
            value = values.get(name)
            if isinstance(value, str) and value.isascii() and value.isdigit():
                values[name] = int(value)
        return Message(self.text, tuple(values.items()), self.money)


# Templates write short sentences (their values are codes, invoice numbers, amounts, times);
# a longer text (an unreadable body quoted in a detail) is not tried, so no pattern ever
# backtracks over a long string.
READ_BACK_MAX = 400


def read_back(sentence: str, templates: Iterable[Template]) -> Message | str:
    """``sentence`` as the message of the first template that wrote it, else as it is."""
    if len(sentence) > READ_BACK_MAX:
        return sentence
    for template in templates:
        message = template.read(sentence)
        if message is not None:
            return message
    return sentence


class MessageError(ValueError):
    """An error whose message is a :class:`Message`: ``str(error)`` is the English sentence,
    ``error.message`` what a page translates."""

    def __init__(self, message: Message | str) -> None:
        self.message = message if isinstance(message, Message) else Message(message)
        super().__init__(str(self.message))
