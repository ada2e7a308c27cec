"""Reading bill files as staff save them: CSV or an Excel workbook, whatever the encoding.

- CSV in UTF-8 (with or without a byte-order mark), in Windows-1252 (Excel's "CSV" on a
  Windows PC) or UTF-16 (Excel's "Unicode text"); UTF-8 is tried first, and a file that is
  valid UTF-8 is practically never Windows-1252 text with accents, so the guess is safe.
- Comma, semicolon (Excel where the decimal separator is a comma, as in Indonesia) or tab
  separated: the separator is the one that splits the header line into known column names.
- ``.xlsx`` workbooks, read with openpyxl in read-only mode (streamed, not loaded whole): the
  first sheet, the header in its first row.

A file that cannot be read raises ``UnreadableFile`` with one sentence for the person who
sent it, never a traceback.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from portal.services.messages import N_, Message, MessageError

XLSX_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
DELIMITERS = (",", ";", "\t")


class UnreadableFile(MessageError):
    """The file is not a CSV or workbook we can read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class RawRow:
    line: int  # line (CSV) or row (workbook) in the file; the header is 1
    values: list[str]


@dataclass(frozen=True, slots=True)
class BillFile:
    """The header and a way to walk the rows (again: the import reads the file twice)."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    data: bytes
    text: str | None  # decoded CSV text; None for a workbook
    delimiter: str

    def rows(self) -> Iterator[RawRow]:
        if self.text is not None:
            return _csv_rows(self.text, self.delimiter)
        return _xlsx_rows(self.data, len(self.header))


def is_workbook(data: bytes, filename: str = "") -> bool:
    return data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")


def open_bill_file(data: bytes, filename: str = "", known: Sequence[str] = ()) -> BillFile:
    """Read the header of ``data`` and get ready to walk its rows.

    ``known`` are the expected column names, which decide the CSV separator.
    """
    if data.startswith(OLD_EXCEL_MAGIC) or filename.lower().endswith(".xls"):
        raise UnreadableFile(
            N_("Old Excel .xls workbooks cannot be read; save the sheet as .xlsx or as CSV UTF-8.")
        )
    if is_workbook(data, filename):
        header = _xlsx_header(data)
        return BillFile("xlsx", header, data, None, ",")
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line, known)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    return BillFile("csv", [h.strip() for h in header], data, text, delimiter)


def decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text.removeprefix("\ufeff")
    raise UnreadableFile(
        N_(
            "The file is not text in UTF-8 or Windows-1252, nor an .xlsx workbook; in Excel use "
            "Save As > CSV UTF-8 (comma delimited) or Excel Workbook (.xlsx)."
        )
    )


def sniff_delimiter(header_line: str, known: Sequence[str] = ()) -> str:
    """The separator that splits the header into the most known column names (then the most
    columns); a comma when nothing fits, so the header check names the problem."""
    names = set(known)

    def score(delimiter: str) -> tuple[int, int]:
        fields = next(csv.reader([header_line], delimiter=delimiter), [])
        return (sum(f.strip().lower() in names for f in fields), len(fields))

    best = max(DELIMITERS, key=score)
    return best if score(best) > (0, 1) else ","


def _csv_rows(text: str, delimiter: str) -> Iterator[RawRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    for values in reader:
        yield RawRow(reader.line_num, values)


def _cell_text(value: object) -> str:
    """A workbook cell as the CSV would have it: whole numbers without ".0", dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _open_workbook(data: bytes) -> object:
    from openpyxl import load_workbook  # imported here: CSV imports never need it

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(
            Message.of(
                N_(
                    "The file is not a readable .xlsx workbook (%(problem)s); save it again "
                    "from Excel as Excel Workbook (.xlsx) or as CSV UTF-8."
                ),
                problem=type(exc).__name__,
            )
        ) from None


def _sheet_rows(data: bytes) -> Iterator[tuple[object, ...]]:
    workbook = _open_workbook(data)
    try:
        sheets = workbook.worksheets  # type: ignore[attr-defined]
        if not sheets:
            return
        yield from sheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()  # type: ignore[attr-defined]


def _xlsx_header(data: bytes) -> list[str]:
    for values in _sheet_rows(data):
        header = [_cell_text(v).strip() for v in values]
        while header and not header[-1]:
            header.pop()
        return header
    return []


def _xlsx_rows(data: bytes, width: int) -> Iterator[RawRow]:
    rows = _sheet_rows(data)
    next(rows, None)
    for number, values in enumerate(rows, start=2):
        cells = [_cell_text(v) for v in values]
        while len(cells) > width and not cells[-1].strip():
            cells.pop()  # empty cells past the last column are nothing
        if len(cells) < width:
            cells += [""] * (width - len(cells))  # a workbook does not store empty cells
        yield RawRow(number, cells)
