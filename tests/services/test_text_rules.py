"""Text that a till cannot print or a terminal misreads is refused wherever it enters: C0/C1
controls and the invisible characters that reorder or hide text (U+009B, U+202E ...)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from portal.services.billing.imports import check
from portal.services.billing.text_rules import unsafe_character
from tests.factories import CODE_SETTINGS
from tests.services.test_bill_import import NOW, csv_text, row

HOSTILE = {
    "csi": "Budi\u009b31mSantoso",  # C1: terminals start an escape sequence here
    "rlo": "Budi \u202eosotnaS",  # right-to-left override: shows reversed text
    "nul": "Budi\x00",
    "esc": "Budi\x1b[2J",
    "zero_width": "Bu\u200bdi",
    "isolate": "Budi\u2066x\u2069",
    "bom": "\ufeffBudi",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_each_hostile_character_is_named(text: str) -> None:
    problem = unsafe_character(text)
    assert problem is not None and "U+" in str(problem)


def test_ordinary_names_and_note_line_breaks_pass() -> None:
    for text in ("Dewi Léstari", "Ni Luh Putu Ayu", "O'Brien-Smith", "Siti (Ibu)"):
        assert unsafe_character(text) is None
    assert unsafe_character("line one\nline two\ttab", multiline=True) is None
    assert unsafe_character("line one\nline two") is not None  # a name is one line


@pytest.mark.parametrize("field", ["customer_name", "policy_type", "policy_account_name"])
@pytest.mark.parametrize("text", [HOSTILE["csi"], HOSTILE["rlo"]], ids=["csi", "rlo"])
def test_the_import_refuses_them_in_every_name_field(
    session: Session, field: str, text: str
) -> None:
    report = check(session, csv_text(row(**{field: text})).encode(), filename="b.csv",
                   settings=CODE_SETTINGS, now=NOW)  # fmt: skip
    assert not report.ok
    [summary] = report.error_summary()
    assert summary.key == field and "is not allowed" in str(summary.message)
