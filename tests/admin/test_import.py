"""Bill import through the browser: check first, then all rows or none."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Bill, Policyholder, StaffRole
from portal.services.billing.imports import HEADER
from tests.admin.conftest import audit_rows, log_in, make_staff, post, text

GOOD = (
    ",".join(HEADER)
    + "\n"
    + "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-UP-1,150000,2031-05-21,,,,\n"
    + "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-UP-2,175000,2031-06-21,,,"
    + "Premi Juni,Terima kasih\n"
)
BAD = (
    ",".join(HEADER)
    + "\n"
    + "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-UP-1,150.000,2031-05-21,,,,\n"
    + "7070702,Jiwa,Agus,aktif,Agus,not-an-email,INV-UP-2,175000,2031-06-21,,,,\n"
)
_TOKEN = re.compile(r'name="token" type="hidden" value="([0-9a-f]{32})"')


def _upload(client: FlaskClient, content: bytes, name: str = "bills.csv") -> str:
    """Upload a file; the job consumer checks it (at once, in tests) and its job page links
    to the check's result, where the confirmation is. Returns that page as text."""
    response = post(
        client,
        "/admin/import",
        {"csv_file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "/admin/jobs/" in response.headers["Location"]
    job_page = text(client.get(response.headers["Location"]))
    found = re.search(r'id="job-result-page" href="([^"]+)"', job_page)
    assert found, job_page
    checked = client.get(found.group(1))
    assert checked.status_code == 200
    return text(checked)


def _bills(session: Session) -> int:
    count = session.scalar(select(func.count(Bill.id))) or 0
    session.commit()
    return count


def test_checking_a_good_file_writes_nothing_and_offers_to_import(
    admin_client: FlaskClient, session: Session
) -> None:
    page = _upload(admin_client, ("\ufeff" + GOOD).encode())
    assert "All 2 rows can be imported: created 2, updated 0, unchanged 0" in page
    assert _TOKEN.search(page)
    assert _bills(session) == 0
    assert session.scalar(select(func.count(Policyholder.id))) == 0


def test_only_the_uploader_sees_the_check_and_its_confirmation(
    admin_client: FlaskClient, session: Session
) -> None:
    response = post(admin_client, "/admin/import", {"csv_file": (io.BytesIO(GOOD.encode()),
                    "bills.csv")}, content_type="multipart/form-data")  # fmt: skip
    job_page = text(admin_client.get(response.headers["Location"]))
    found = re.search(r'id="job-result-page" href="([^"]+)"', job_page)
    assert found
    colleague = make_staff(session, StaffRole.ADMIN, "colleague@insurer.example")
    other_client = log_in(admin_client.application.test_client(), colleague)
    assert other_client.get(found.group(1)).status_code == 404


def _confirmed(client: FlaskClient, response: Any) -> str:
    """Confirming starts a job and shows its page; the job's result links to the import run.
    Returns the job page and the run page, as text."""
    assert response.status_code == 302
    assert "/admin/jobs/" in response.headers["Location"]
    job_page = text(client.get(response.headers["Location"]))
    found = re.search(r'id="job-result-page" href="([^"]+)"', job_page)
    assert found, job_page
    return job_page + text(client.get(found.group(1)))


def test_confirming_imports_every_row_with_an_audit_row(
    admin_client: FlaskClient, session: Session
) -> None:
    page = _upload(admin_client, GOOD.encode())
    token = _TOKEN.search(page)
    assert token is not None
    response = post(admin_client, "/admin/import/confirm", {"token": token.group(1)})
    pages = _confirmed(admin_client, response)
    assert "Imported 2 rows from bills.csv" in pages
    assert _bills(session) == 2
    bill = session.scalar(select(Bill).where(Bill.invoice_number == "INV-UP-2"))
    assert bill is not None and bill.footer_message == "Terima kasih"
    assert bill.current_code is not None
    session.commit()
    [entry] = audit_rows(session, "bills.import")
    after = json.loads(entry.after or "{}")
    assert after["created"] == 2 and after["filename"] == "bills.csv"
    assert len(audit_rows(session, "bill.import")) == 2  # one per changed row
    # The staged file is used once.
    again = post(admin_client, "/admin/import/confirm", {"token": token.group(1)})
    assert again.status_code == 404
    assert _bills(session) == 2


def test_a_bad_file_lists_every_bad_row_and_field_and_imports_nothing(
    admin_client: FlaskClient, session: Session
) -> None:
    page = _upload(admin_client, BAD.encode())
    assert "nothing was imported" in page
    assert "Whole rupiah in digits only" in page
    assert "Not a valid email address." in page
    assert re.search(
        r"<td><code>amount</code></td><td>Whole rupiah[^<]*</td>"
        r'<td class="num">1</td><td>2</td><td><code>150.000</code>',
        page,
    )
    assert re.search(
        r"<td><code>customer_email</code></td><td>[^<]*</td>"
        r'<td class="num">1</td><td>3</td><td><code>not-an-email</code>',
        page,
    )
    assert not _TOKEN.search(page)
    assert _bills(session) == 0


def test_a_windows_1252_file_from_excel_is_read(
    admin_client: FlaskClient, session: Session
) -> None:
    page = _upload(admin_client, GOOD.replace("Dewi Lestari", "Dewi Léstari").encode("cp1252"))
    assert "All 2 rows can be imported" in page


def test_a_file_that_is_not_text_is_refused_in_one_line(
    admin_client: FlaskClient, session: Session
) -> None:
    page = _upload(admin_client, b"\x81\x8d\x8f\x90\x9d")
    assert "1 problem: nothing was imported" in page
    assert "not text in UTF-8 or Windows-1252" in page
    assert _bills(session) == 0


def test_a_semicolon_separated_upload_is_imported_and_listed_in_past_imports(
    admin_client: FlaskClient, session: Session
) -> None:
    token = _TOKEN.search(_upload(admin_client, GOOD.replace(",", ";").encode()))
    assert token is not None
    response = post(admin_client, "/admin/import/confirm", {"token": token.group(1)})
    run_page = _confirmed(admin_client, response)
    assert "created 2, updated 0, unchanged 0" in run_page
    assert "bills.csv" in text(admin_client.get("/admin/imports"))


def test_a_conflict_is_shown_on_the_run_and_on_the_conflicts_page(
    admin_client: FlaskClient, session: Session
) -> None:
    token = _TOKEN.search(_upload(admin_client, GOOD.encode()))
    assert token is not None
    post(admin_client, "/admin/import/confirm", {"token": token.group(1)})
    bill = session.scalar(select(Bill).where(Bill.invoice_number == "INV-UP-1"))
    assert bill is not None
    bill.state = "paid"
    session.commit()
    page = _upload(admin_client, GOOD.replace("150000", "160000").encode())
    assert "conflicts 1" in page and "paid_conflict" in page
    token = _TOKEN.search(page)
    assert token is not None
    response = post(admin_client, "/admin/import/confirm", {"token": token.group(1)})
    run_page = _confirmed(admin_client, response)
    assert "amount 150000 -&gt; 160000" in run_page
    assert "INV-UP-1" in text(admin_client.get("/admin/imports/conflicts"))


def test_a_viewer_sees_past_imports_but_cannot_upload(
    viewer_client: FlaskClient,
) -> None:
    assert viewer_client.get("/admin/imports").status_code == 200
    assert viewer_client.get("/admin/import").status_code == 403


def test_a_file_that_became_wrong_before_confirming_imports_nothing(
    admin_client: FlaskClient, session: Session
) -> None:
    token = _TOKEN.search(_upload(admin_client, GOOD.encode()))
    assert token is not None
    # Meanwhile another upload imported INV-UP-1 for another policy: the rows now conflict.
    other = GOOD.replace("7070701", "8080801").replace("dewi@", "other@")
    other_token = _TOKEN.search(_upload(admin_client, other.encode()))
    assert other_token is not None
    post(admin_client, "/admin/import/confirm", {"token": other_token.group(1)})
    assert _bills(session) == 2
    response = post(admin_client, "/admin/import/confirm", {"token": token.group(1)})
    assert "nothing was imported" in _confirmed(admin_client, response)
    assert _bills(session) == 2


def test_another_staff_member_cannot_confirm_my_upload(
    admin_client: FlaskClient, session: Session, app: object
) -> None:
    token = _TOKEN.search(_upload(admin_client, GOOD.encode()))
    assert token is not None
    colleague = make_staff(session, StaffRole.ADMIN, "colleague@insurer.example")
    other_client = log_in(admin_client.application.test_client(), colleague)
    response = post(other_client, "/admin/import/confirm", {"token": token.group(1)})
    assert response.status_code == 404
    assert _bills(session) == 0


def test_a_forged_token_is_refused(admin_client: FlaskClient) -> None:
    for token in ("../../etc/passwd", "g" * 32):
        response = post(admin_client, "/admin/import/confirm", {"token": token})
        assert response.status_code == 404
