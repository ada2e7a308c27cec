"""The payment slip and the payment receipt as PDF files, built on the server with fpdf2.

A downloaded PDF looks the same on every phone and printer, which the browser's "print" does
not promise. The views hand over the texts already written in the reader's language (labels,
amounts, times as the portal writes them); this module only lays them out, with the insurer's
brand, the payment code in groups of four, its Code 128 barcode and QR code drawn as vectors,
and the receipt footer in the till's 40 columns.

fpdf2's built-in fonts cover Latin-1, so text is reduced to it first (typographic quotes and
dashes become plain ones); names outside it keep their letters where Latin-1 has them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

from portal.services.billing.barcodes import code128_modules
from portal.services.billing.payment_codes import grouped_code
from portal.services.contact import InsurerContact

_BRAND_RGB = (10, 77, 140)  # the portal's --brand
_MUTED_RGB = (74, 85, 97)
_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-",
                        "…": "...", "\u00a0": " "})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Labels:
    slip_title: str
    receipt_title: str
    payment_code: str
    amount: str
    pay_before: str
    name: str
    policy: str
    invoice: str
    due_date: str
    paid_at: str
    store: str
    reference: str
    footer_title: str
    received_note: str
    contact: str


@dataclass(frozen=True, slots=True)
class Brand:
    insurer: InsurerContact
    logo: Path | None
    labels: Labels


@dataclass(frozen=True, slots=True)
class SlipContent:
    code: str
    amount: str
    pay_before: str
    name: str
    policy: str
    invoice: str
    due_date: str
    footer_lines: Sequence[str]
    # How to pay at the chain the policyholder chose (services/billing/chains), translated.
    steps_title: str
    steps: Sequence[str]


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    amount: str
    paid_at: str
    name: str
    policy: str
    invoice: str
    code: str
    store: str
    reference: str


def latin1(text: str) -> str:
    """``text`` as the built-in PDF fonts can print it."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, brand: Brand, title: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.brand = brand
        self.set_title(latin1(title))
        self.set_author(latin1(brand.insurer.name))
        self.set_creator("Alfa premium payments portal")
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=24)
        self.add_page()
        self._letterhead()
        self.set_font("Helvetica", "B", 18)
        self.set_text_color(0, 0, 0)
        self.cell(0, 10, latin1(title), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def _letterhead(self) -> None:
        insurer = self.brand.insurer
        x = self.l_margin
        if self.brand.logo is not None:
            self.image(str(self.brand.logo), x=x, y=self.t_margin, w=14, h=14)
            x += 18
        self.set_xy(x, self.t_margin)
        self.set_font("Helvetica", "B", 13)
        self.set_text_color(*_BRAND_RGB)
        self.cell(0, 7, latin1(insurer.name), new_x="LMARGIN", new_y="NEXT")
        self.set_x(x)
        self.set_font("Helvetica", "", 9)
        self.set_text_color(*_MUTED_RGB)
        contacts = [insurer.phone]
        if insurer.whatsapp:
            contacts.append(f"WhatsApp {insurer.whatsapp}")
        contacts.append(insurer.email)
        self.cell(0, 5, latin1(" · ".join(contacts)), new_x="LMARGIN", new_y="NEXT")
        self.set_y(self.t_margin + 17)
        self.set_draw_color(*_BRAND_RGB)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)

    def footer(self) -> None:
        insurer = self.brand.insurer
        self.set_y(-18)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*_MUTED_RGB)
        if insurer.licence:
            self.cell(0, 4, latin1(f"{insurer.name} · {insurer.licence}"), align="C",
                      new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        self.cell(0, 4, latin1(self.brand.labels.contact), align="C")

    def facts(self, rows: Sequence[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_font("Helvetica", "", 10)
            self.set_text_color(*_MUTED_RGB)
            self.cell(48, 7, latin1(label))
            self.set_font("Helvetica", "B", 11)
            self.set_text_color(0, 0, 0)
            self.multi_cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.set_text_color(0, 0, 0)
        self.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def code128(self, value: str, *, height: float = 18) -> None:
        modules = code128_modules(value)
        width = min(self.w - self.l_margin - self.r_margin - 44, 120.0)
        module = width / len(modules)
        x, y = self.l_margin, self.get_y()
        self.set_fill_color(0, 0, 0)
        for bit, run in itertools.groupby(modules):
            count = len(list(run))
            if bit == "1":
                self.rect(x, y, module * count, height, style="F")
            x += module * count

    def qr(self, value: str, *, size: float = 34) -> None:
        matrix = [list(row) for row in segno.make(value, error="m", micro=False).matrix]
        cell = size / len(matrix)
        x0, y0 = self.w - self.r_margin - size, self.get_y() - 4
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    self.rect(x0 + c * cell, y0 + r * cell, cell, cell, style="F")


def slip_pdf(content: SlipContent, *, brand: Brand) -> bytes:
    """The payment slip: code (grouped, barcode, QR), amount, deadline, steps, till footer."""
    labels = brand.labels
    doc = _Document(brand, labels.slip_title)
    doc.set_font("Helvetica", "", 10)
    doc.set_text_color(*_MUTED_RGB)
    doc.cell(0, 6, latin1(labels.payment_code), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Courier", "B", 24)
    doc.set_text_color(0, 0, 0)
    doc.cell(0, 12, grouped_code(content.code), new_x="LMARGIN", new_y="NEXT")
    top = doc.get_y() + 2
    doc.set_y(top)
    doc.qr(content.code)
    doc.code128(content.code)
    doc.set_y(top + 36)
    doc.facts([
        (labels.amount, content.amount),
        (labels.pay_before, content.pay_before),
        (labels.name, content.name),
        (labels.policy, content.policy),
        (labels.invoice, content.invoice),
        (labels.due_date, content.due_date),
    ])  # fmt: skip
    doc.heading(content.steps_title)
    doc.set_font("Helvetica", "", 10)
    for number, step in enumerate(content.steps, start=1):
        doc.multi_cell(0, 6, latin1(f"{number}. {step}"), new_x="LMARGIN", new_y="NEXT")
    if content.footer_lines:
        doc.heading(labels.footer_title)
        doc.set_font("Courier", "", 10)
        doc.set_draw_color(*_MUTED_RGB)
        doc.set_line_width(0.2)
        for line in content.footer_lines:
            doc.cell(86, 5, latin1(line), border="LR", new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def receipt_pdf(content: ReceiptContent, *, brand: Brand) -> bytes:
    """The payment receipt: what was paid, when, where, and the till's transaction id."""
    labels = brand.labels
    doc = _Document(brand, labels.receipt_title)
    doc.facts([
        (labels.amount, content.amount),
        (labels.paid_at, content.paid_at),
        (labels.name, content.name),
        (labels.policy, content.policy),
        (labels.invoice, content.invoice),
        (labels.payment_code, grouped_code(content.code)),
        (labels.store, content.store),
        (labels.reference, content.reference),
    ])  # fmt: skip
    doc.ln(4)
    doc.set_font("Helvetica", "", 10)
    doc.set_text_color(*_MUTED_RGB)
    doc.multi_cell(0, 6, latin1(labels.received_note), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
