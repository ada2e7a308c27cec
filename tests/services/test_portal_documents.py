"""What policyholders read outside the pages: the PDF slip and receipt, the wording of times
and durations (shared by pages and emails), the chain names and short references."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.services.billing import pdf
from portal.services.billing.chains import CHAINS, chain_name, known_chain, short_reference
from portal.services.billing.payment_codes import grouped_code
from portal.services.contact import InsurerContact
from portal.services.wording import duration, long_date, wib_time
from tests.pdf_text import content_streams

INSURER = InsurerContact(
    name="PT Asuransi Demo Sejahtera", phone="1500-123", email="layanan@asuransi-demo.example",
    whatsapp="0811-1500-123", logo="", licence="Berizin dan diawasi oleh OJK",
)  # fmt: skip
LABELS = pdf.Labels(
    slip_title="Bayar di gerai Alfa Group", receipt_title="Bukti pembayaran",
    payment_code="Kode pembayaran", amount="Jumlah", pay_before="Bayar sebelum", name="Nama",
    policy="Polis", invoice="Nomor tagihan", due_date="Jatuh tempo", paid_at="Dibayar pada",
    store="Dibayar di gerai", reference="Referensi", footer_title="Bagian akhir struk",
    received_note="Diterima tunai.", contact="Telepon 1500-123",
)  # fmt: skip


def _pdf_text(document: bytes) -> str:
    """The text drawn in a PDF: every content stream, inflated."""
    return "\n".join(content_streams(document))


def test_the_slip_pdf_carries_the_code_grouped_amount_deadline_steps_footer_and_brand() -> None:
    document = pdf.slip_pdf(
        pdf.SlipContent(
            code="8896469706801443", amount="Rp 150.000", pay_before="9 Desember 2026, 08.10 WIB",
            name="Budi Santoso", policy="Dana Pendidikan · 9090900001", invoice="INV-1",
            due_date="6 Desember 2026",
            footer_lines=("Terima kasih, Bapak Budi. Polis Anda tet", "ap aktif."),
            steps_title="Cara membayar di Lawson",
            steps=("Datang ke kasir.", "Sebutkan kode “DOKU” – lalu bayar."),
        ),
        brand=pdf.Brand(insurer=INSURER, logo=None, labels=LABELS),
    )  # fmt: skip
    assert document.startswith(b"%PDF-")
    assert document.count(b"/Type /Page\n") + document.count(b"/Type /Page ") <= 1
    text = _pdf_text(document)
    for expected in ("8896 4697 0680 1443", "Rp 150.000", "9 Desember 2026, 08.10 WIB",
                     "Budi Santoso", "PT Asuransi Demo Sejahtera", "WhatsApp 0811-1500-123",
                     "Berizin dan diawasi oleh OJK", "Polis Anda tet", "Cara membayar di Lawson",
                     'Sebutkan kode "DOKU" - lalu bayar.'):  # fmt: skip
        assert f"({expected}" in text or expected in text, expected
    # The barcode is drawn: many filled rectangles (" re f").
    assert text.count(" re f") > 50


def test_the_receipt_pdf_names_chain_store_and_reference() -> None:
    document = pdf.receipt_pdf(
        pdf.ReceiptContent(
            amount="Rp 275.000", paid_at="28 November 2026, 10.00 WIB", name="Budi Santoso",
            policy="Jiwa · 1", invoice="INV-2", code="8896469706801443",
            store="Alfamart · toko TZ01", reference="ALFA-20261128-TZ01-00012345",
        ),
        brand=pdf.Brand(insurer=INSURER, logo=None, labels=LABELS),
    )  # fmt: skip
    text = _pdf_text(document)
    for expected in ("Bukti pembayaran", "Rp 275.000", "Alfamart \xb7 toko TZ01",
                     "ALFA-20261128-TZ01-00012345", "8896 4697 0680 1443"):  # fmt: skip
        assert expected in text, expected


def test_text_outside_latin1_is_reduced_not_dropped() -> None:
    assert pdf.latin1("“DOKU” – …") == '"DOKU" - ...'
    assert pdf.latin1("José") == "José"
    assert pdf.latin1("李") == "?"


@pytest.mark.parametrize(
    ("length", "language", "words"),
    [
        (timedelta(days=7), "id", "7 hari"),
        (timedelta(days=1), "en", "1 day"),
        (timedelta(days=7), "en", "7 days"),
        (timedelta(hours=36), "id", "36 jam"),
        (timedelta(hours=1), "en", "1 hour"),
        (timedelta(minutes=90), "en", "90 minutes"),
        (timedelta(seconds=5), "id", "1 menit"),
    ],
)
def test_durations_are_written_in_words_in_their_largest_whole_unit(
    length: timedelta, language: str, words: str
) -> None:
    assert duration(length, language) == words


def test_times_are_written_in_wib_as_the_portal_writes_them() -> None:
    moment = datetime(2026, 5, 21, 9, 59, tzinfo=UTC)
    assert wib_time(moment, "id") == "21 Mei 2026, 16.59 WIB"
    assert wib_time(moment, "en") == "21 May 2026, 16:59 WIB"
    # Late in the UTC day is the next day in WIB.
    assert long_date(datetime(2026, 5, 21, 20, 0, tzinfo=UTC), "id") == "22 Mei 2026"
    assert long_date(date(2026, 12, 1), "en") == "1 December 2026"
    assert grouped_code("8896469706801443") == "8896 4697 0680 1443"


def test_agent_ids_become_chain_names_and_references_get_short() -> None:
    assert [c.name for c in CHAINS] == ["Alfamart", "Alfamidi", "Alfaexpress", "Lawson", "Dan+Dan"]
    assert chain_name("ALFAMART") == "Alfamart" and chain_name("dan+dan") == "Dan+Dan"
    assert chain_name("100001") == "100001" and chain_name(None) == "(unknown)"
    assert known_chain("LAWSON") == "Lawson" and known_chain("100001") is None
    assert short_reference("ALFA-20261128-TZ01-00012345") == "…00012345"
    assert short_reference("TRX-9") == "TRX-9"
    assert short_reference("  ") is None and short_reference(None) is None
