"""Downloaded tables: no cell runs as a formula, payment codes keep every digit."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from portal.services.reporting.spreadsheets import Table, csv_bytes, render, to_csv, to_xlsx

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _table() -> Table:
    return Table(
        title="payments",
        header=("code", "amount", "name"),
        rows=[
            *[("8896123456789012", 150_000, name) for name in [*HOSTILE, "Dewi"]],
            (None, -5, ""),
        ],
    )


def test_csv_text_that_starts_like_a_formula_is_prefixed_with_an_apostrophe() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(_table()))))
    names = [r[2] for r in rows[1 : 1 + len(HOSTILE)]]
    assert names == ["'" + h for h in HOSTILE]
    assert rows[1 + len(HOSTILE)][2] == "Dewi"


def test_csv_numbers_stay_numbers_and_codes_keep_all_digits() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(_table()))))
    assert rows[1][:2] == ["8896123456789012", "150000"]
    assert rows[-1][:2] == ["", "-5"]  # a negative number is a number, not a formula


def test_csv_bytes_start_with_a_utf8_bom() -> None:
    assert csv_bytes(_table()).startswith(b"\xef\xbb\xbf")


def test_xlsx_codes_are_text_cells_and_formulas_are_plain_strings() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(_table()))).active
    assert sheet is not None
    code = sheet.cell(row=2, column=1)
    assert code.value == "8896123456789012" and code.data_type == "s"
    assert sheet.cell(row=2, column=2).value == 150_000
    for row, hostile in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row=row, column=3)
        # XML stores a carriage return as a line feed; what matters is that it is a string.
        assert cell.value == hostile.replace("\r", "\n") and cell.data_type == "s"


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="csv, xlsx"):
        render(_table(), "ods")
