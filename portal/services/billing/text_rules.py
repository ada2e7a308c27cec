"""Which characters text may hold where it enters the app (imports, forms, notes).

Names and policy fields go to DOKU's till, to terminals (the simulator, logs) and to staff
screens. Control characters (C0, DEL and the C1 range, U+0080-U+009F, which terminals obey:
U+009B starts an escape sequence) and the invisible formatting characters that reorder or
hide text (bidi overrides and isolates such as U+202E, zero-width characters, the BOM) are
refused with the character named. Notes typed by staff may keep line breaks and tabs.
"""

from __future__ import annotations

import re
import unicodedata

from portal.services.messages import N_, Message

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 controls, DEL, C1 controls
    "\u200b-\u200f"  # zero-width space/joiners, left-to-right and right-to-left marks
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064\u2066-\u2069"  # word joiner, invisible operators, bidi isolates
    "\ufeff]"  # byte order mark / zero-width no-break space
)
_NOTE_WHITESPACE = frozenset("\n\r\t")


def unsafe_character(text: str, *, multiline: bool = False) -> Message | None:
    """A sentence naming the first character ``text`` may not hold, or None if it is clean."""
    for position, char in enumerate(text, start=1):
        if _UNSAFE.match(char) and not (multiline and char in _NOTE_WHITESPACE):
            name = unicodedata.name(char, "control character")
            return Message.of(
                N_("Character %(position)s (%(character)s) is not allowed."),
                position=position,
                character=f"U+{ord(char):04X}, {name.lower()}",
            )
    return None
