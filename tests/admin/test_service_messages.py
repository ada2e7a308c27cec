"""What the services say reaches staff in the page's language: import errors, refusals,
exception details and decline reasons are messages (msgid + params) the back office
translates, Bahasa Indonesia by default and English with the ``lang`` cookie; rows stored
as plain English before still show."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import BillState, ExceptionKind, ImportRun, ImportState, PaymentException
from portal.services.billing.imports import HEADER
from portal.services.messages import N_, Message, Template, read_back
from portal.services.traffic import payments
from tests.admin.conftest import post, text
from tests.factories import (
    INQUIRY_TARGET,
    inquiry_body,
    live_code,
    make_bill,
    notification_body_for,
    notify,
    post_signed,
)

BAD_AMOUNT = (
    ",".join(HEADER)
    + "\n"
    + "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-ID-1,150.000,2031-05-21,,,,\n"
)


def _speak(client: FlaskClient, language: str) -> FlaskClient:
    client.set_cookie("lang", language)
    return client


def _checked_url(client: FlaskClient, content: str) -> str:
    """Upload a file; its check job (run at once in tests) links to what the check found."""
    response = post(
        client,
        "/admin/import",
        {"csv_file": (io.BytesIO(content.encode()), "bills.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job_page = text(client.get(response.headers["Location"]))
    found = re.search(r'id="job-result-page" href="([^"]+)"', job_page)
    assert found, job_page
    return found.group(1)


def _checked_page(client: FlaskClient, content: str) -> str:
    return text(client.get(_checked_url(client, content)))


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("id", "Rupiah bulat, hanya angka, misalnya 150000", "Whole rupiah in digits only"),
        ("en", "Whole rupiah in digits only, e.g. 150000", "Rupiah bulat"),
    ],
)
def test_an_import_row_error_is_shown_in_the_pages_language(
    admin_client: FlaskClient, language: str, expected: str, absent: str
) -> None:
    page = _checked_page(_speak(admin_client, language), BAD_AMOUNT)
    assert 'id="import-rejected"' in page
    errors = page.split('id="import-errors"', 1)[1]
    assert expected in errors and absent not in errors
    assert "150.000" in errors  # the offending value, as it was in the file


def test_a_stored_check_result_is_translated_when_read_not_when_written(
    admin_client: FlaskClient,
) -> None:
    """The job ran outside any request; its stored result keeps the msgid and its values, so
    one result reads in either language."""
    url = _checked_url(_speak(admin_client, "en"), BAD_AMOUNT.replace("150.000", "0"))
    assert "Must be between 1 and 999999999999." in text(admin_client.get(url))
    assert "Harus antara 1 dan 999999999999." in text(_speak(admin_client, "id").get(url))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "1 masalah: tidak ada yang diimpor"), ("en", "1 problem(s): nothing was imported")],
)
def test_the_check_jobs_progress_is_shown_in_the_pages_language(
    admin_client: FlaskClient, language: str, expected: str
) -> None:
    """The job writes its progress outside any request; its page reads it in either language."""
    response = post(
        _speak(admin_client, language),
        "/admin/import",
        {"csv_file": (io.BytesIO(BAD_AMOUNT.encode()), "bills.csv")},
        content_type="multipart/form-data",
    )
    job_page = text(admin_client.get(response.headers["Location"]))
    facts = job_page.split('id="job-run"', 1)[1].split("</dl>", 1)[0]
    assert expected in facts
    result = job_page.split('id="job-result"', 1)[1].split("</table>", 1)[0]
    assert ("Diterima" if language == "id" else "Accepted") in result


@pytest.mark.parametrize(
    ("language", "action", "data", "expected"),
    [
        ("id", "edit", {"amount": "1000000", "due_date": "2031-05-21"},
         "Tagihan {invoice} sudah lunas; tidak dapat diubah."),
        ("en", "edit", {"amount": "1000000", "due_date": "2031-05-21"},
         "Bill {invoice} is paid; it cannot be edited."),
        ("id", "cancel", {"note": "oops"},
         "Tagihan {invoice} sudah lunas; tidak dapat dibatalkan."),
        ("en", "cancel", {"note": "oops"}, "Bill {invoice} is paid; it cannot be cancelled."),
    ],
)  # fmt: skip
def test_a_paid_bill_change_is_refused_in_the_pages_language(
    admin_client: FlaskClient,
    session: Session,
    language: str,
    action: str,
    data: dict[str, str],
    expected: str,
) -> None:
    bill = make_bill(session, state=BillState.PAID)
    bill_id, invoice = bill.id, bill.invoice_number
    session.commit()
    client = _speak(admin_client, language)
    response = post(client, f"/admin/bills/{bill_id}/{action}", data)
    assert response.status_code == 409
    assert expected.format(invoice=invoice) in text(response)
    if action == "edit":  # the form itself is refused the same way
        assert expected.format(invoice=invoice) in text(client.get(f"/admin/bills/{bill_id}/edit"))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("id", "dibayar Rp 1.000, padahal tagihan {invoice} sebesar Rp 200.000"),
        ("en", "paid Rp 1.000 but bill {invoice} is Rp 200.000"),
    ],
)
def test_an_exception_detail_is_shown_in_the_pages_language(
    admin_client: FlaskClient, session: Session, language: str, expected: str
) -> None:
    bill = make_bill(session, amount=200_000)
    invoice = bill.invoice_number
    assert notify(admin_client, notification_body_for(bill, amount=1_000)).status_code == 200
    item = session.query(PaymentException).one()
    # Stored as the English sentence the CLI, the reconciliation file and DOKU's answer use.
    assert item.detail == f"paid 1000 but bill {invoice} is 200000"
    exception_id = item.id
    session.commit()
    client = _speak(admin_client, language)
    assert expected.format(invoice=invoice) in text(client.get("/admin/exceptions"))
    detail_page = text(client.get(f"/admin/exceptions/{exception_id}"))
    assert expected.format(invoice=invoice) in detail_page


def test_an_exception_stored_before_and_one_no_template_wrote_still_show(
    admin_client: FlaskClient, session: Session
) -> None:
    """Rows from before (the same English sentence) translate; any other text shows as is."""
    now = datetime.now(UTC)
    for number, detail in enumerate(
        ("bill OLD-1 is cancelled; the money needs a refund", "a note typed by hand"), start=1
    ):
        session.add(
            PaymentException(
                kind=ExceptionKind.CANCELLED_BILL.value,
                fingerprint=f"old-{number}",
                created_at=now,
                detail=detail,
            )
        )
    session.commit()
    page = text(_speak(admin_client, "id").get("/admin/exceptions"))
    assert "tagihan OLD-1 sudah dibatalkan; uangnya perlu dikembalikan" in page
    assert "a note typed by hand" in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "status polis &#39;lapse&#39;"), ("en", "policy status is &#39;lapse&#39;")],
)
def test_a_decline_reason_in_the_traffic_list_is_in_the_pages_language(
    admin_client: FlaskClient, session: Session, language: str, expected: str
) -> None:
    bill = make_bill(session, amount=120_000, policy_status="lapse")
    too_big = make_bill(session, amount=7_500_000)
    session.commit()
    for code in (live_code(bill), live_code(too_big)):
        answer = post_signed(admin_client, INQUIRY_TARGET, inquiry_body(code, AGENT_ID="ALFAMART"))
        assert answer.status_code == 400
    page = text(_speak(admin_client, language).get("/admin/traffic/inquiries"))
    reasons = re.findall(r'<small class="reason">([^<]*)</small>', page)
    assert expected in reasons
    limits = {
        "id": "jumlah Rp 7.500.000 di luar batas Alfa Rp 10.000-Rp 5.000.000",
        "en": "amount Rp 7.500.000 is outside the Alfa limits Rp 10.000-Rp 5.000.000",
    }[language]
    assert limits in reasons


def test_an_import_run_stored_with_plain_text_still_shows(
    admin_client: FlaskClient, session: Session
) -> None:
    """A run's notes stored before messages were kept whole (a plain English sentence) show
    as they are, translated where the sentence is a msgid; new ones keep {text, params}."""
    note = {"key": "expired_new", "count": 1, "lines": [2], "value": "INV-9"}
    run = ImportRun(
        staff_id=None,
        actor="cli",
        filename="old.csv",
        sha256="0" * 64,
        content=b"",
        state=ImportState.DONE.value,
        created_at=datetime.now(UTC),
        summary=json.dumps(
            {
                "notes": [
                    note | {"message": "A new bill whose expires_at is already past: not created."},
                    note | {"key": "other", "message": "Some text from long ago."},
                    note
                    | {
                        "key": "due",
                        "message": Message.of(N_("due %(date)s"), date="2031-01-01").as_dict(),
                    },
                ]
            }
        ),
    )
    session.add(run)
    session.commit()
    page = text(_speak(admin_client, "id").get(f"/admin/imports/{run.id}"))
    assert "Tagihan baru dengan expires_at yang sudah lewat: tidak dibuat." in page
    assert "Some text from long ago." in page
    assert "jatuh tempo 2031-01-01" in page


# The message type itself.


def test_a_message_is_its_english_sentence_for_the_command_line() -> None:
    message = payments.AMOUNT_MISMATCH(paid=1000, invoice="INV-1", amount=150000)
    assert str(message) == "paid 1000 but bill INV-1 is 150000"
    assert Message.stored(json.loads(json.dumps(message.as_dict()))) == message
    assert Message.stored("plain") == "plain" and Message.stored(None) == ""
    rendered = message.render(lambda text: text.replace("but", "yet"), lambda n: f"Rp {n}")
    assert rendered == "paid Rp 1000 yet bill INV-1 is Rp 150000"


def test_a_template_reads_back_only_the_sentences_it_wrote() -> None:
    template = Template(N_("paid %(paid)s but bill %(invoice)s is %(amount)s"), money=("paid",))
    back = template.read("paid 1000 but bill INV 7 is 150000")
    assert back is not None and back.values() == {
        "paid": 1000,
        "invoice": "INV 7",
        "amount": "150000",
    }
    assert template.read("paid 1000 but the bill is 150000 (typed)") is None
    assert read_back("something else", [template]) == "something else"


def test_a_date_filter_that_cannot_be_read_is_named_in_the_pages_language(
    admin_client: FlaskClient,
) -> None:
    response = _speak(admin_client, "id").get("/admin/reconciliation?from=nope")
    assert response.status_code == 400
    assert "&#39;from&#39; harus berupa tanggal dengan format YYYY-MM-DD." in text(response)


def test_a_long_text_is_shown_as_it_is_without_being_read_back() -> None:
    template = Template(N_("paid %(paid)s but bill %(invoice)s is %(amount)s"))
    long_text = "paid 1 but bill " + "x is " * 200 + "2"
    assert read_back(long_text, [template]) == long_text
    assert read_back("paid 1 but bill X is 2", [template]) == template(
        paid="1", invoice="X", amount="2"
    )
