"""Tables that leave the app as files: CSV and XLSX, safe to open in a spreadsheet.

One place decides how a downloaded cell looks, so every export (reconciliation, bills,
payments, audit, lists) keeps the same two promises:

- text never runs as a formula: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return is prefixed with an apostrophe in CSV (what OWASP and the spreadsheets
  themselves recommend), and is written as a plain string cell in XLSX;
- a payment code stays text: numbers are written as numbers only when the caller passes an
  ``int``; a code passed as ``str`` keeps all its digits (XLSX marks the cell as text; a CSV
  must be imported with that column as Text, see README).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

Cell = str | int | None

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Table:
    """A header and its rows; cells are text, whole numbers (rupiah, counts) or empty."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Cell]] = field(default_factory=list)


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it, never evaluated as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _text(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def to_csv(table: Table) -> str:
    """UTF-8 CSV text (comma-separated, one header line); write it with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in table.header])
    for row in table.rows:
        writer.writerow(
            ["" if v is None else v if isinstance(v, int) else neutralise(_text(v)) for v in row]
        )
    return out.getvalue()


def csv_bytes(table: Table) -> bytes:
    """CSV as bytes with a UTF-8 byte order mark, so Excel reads names like "Dewi Saraswati"
    with their accents right."""
    return b"\xef\xbb\xbf" + to_csv(table).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """An XLSX workbook with one sheet; text cells are typed as text (codes keep every digit)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.title[:31] or "Sheet1")
    sheet.append([_cell(sheet, h) for h in table.header])
    for row in table.rows:
        sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(sheet: object, value: object) -> WriteOnlyCell:
    if value is None or isinstance(value, int):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=_text(value))
    # openpyxl would take "=..." for a formula; a string cell with the text format stays text.
    cell.data_type = "s"
    cell.number_format = "@"
    return cell


def render(table: Table, file_format: str) -> tuple[bytes, str]:
    """The file and its content type, for ``file_format`` in :data:`FORMATS`."""
    if file_format == "csv":
        return csv_bytes(table), CSV_CONTENT_TYPE
    if file_format == "xlsx":
        return to_xlsx(table), XLSX_CONTENT_TYPE
    raise ValueError(f"unknown format {file_format!r}; use one of: {', '.join(FORMATS)}")
