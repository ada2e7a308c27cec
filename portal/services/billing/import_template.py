"""The bill import's template file: the header the import reads and two example rows, as CSV
or XLSX (services/reporting/spreadsheets), so staff start from a file the import accepts."""

from __future__ import annotations

from portal.services.billing.imports import HEADER
from portal.services.reporting.spreadsheets import Table

# A bill with every column filled, and one with the optional ones empty (the import then
# issues a payment code, takes the default expiry and the configured receipt texts).
EXAMPLES: tuple[tuple[str | int, ...], ...] = (
    ("9090901234", "Dana Pendidikan", "Andreas Wijaya", "aktif", "Budi Santoso",
     "budi@example.com", "INV-2031-0001", 150000, "2031-05-21", "", "2031-06-20T23:59:59+07:00",
     "Premi Dana Pendidikan", "Terima kasih"),
    ("9090905678", "Jiwa Berjangka", "Siti Rahayu", "aktif", "Siti Rahayu",
     "siti@example.com", "INV-2031-0002", 275000, "2031-06-11", "", "", "", ""),
)  # fmt: skip


def template_table() -> Table:
    """The columns in the order the import expects them; amounts are whole rupiah."""
    return Table("Bills", HEADER, [list(row) for row in EXAMPLES])
