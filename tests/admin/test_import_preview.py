"""Import with a preview: the check shows the rows the import will create, update, leave
unchanged, skip or hold as conflicts, with rupiah totals, before staff confirm; errors show
the offending value; a template file to start from."""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import Bill, BillState
from portal.services.billing import import_preview
from portal.services.billing.import_preview import Outcome, Preview
from portal.services.billing.imports import HEADER
from tests.admin.conftest import post, text
from tests.admin.test_import import _TOKEN, _confirmed, _upload

ROW = (
    "7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,{invoice},{amount},2031-05-21,,"
    "{expires},,"
)
FIRST = "\n".join(
    [",".join(HEADER)]
    + [ROW.format(invoice=f"INV-P-{i}", amount=a, expires="") for i, a in
       ((1, 150000), (2, 175000), (3, 200000))]
) + "\n"  # fmt: skip
SECOND = (
    "\n".join(
        [
            ",".join(HEADER),
            ROW.format(invoice="INV-P-1", amount=150000, expires=""),  # unchanged
            ROW.format(invoice="INV-P-2", amount=180000, expires=""),  # update
            ROW.format(invoice="INV-P-3", amount=250000, expires=""),  # paid: a conflict
            ROW.format(invoice="INV-P-4", amount=90000, expires=""),  # create
            ROW.format(
                invoice="INV-P-5", amount=60000, expires="2020-01-01T00:00:00+07:00"
            ),  # skip
        ]
    )
    + "\n"
)


def _section(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</details>", 1)[0]


def test_the_check_previews_every_outcome_with_totals_before_anything_is_written(
    admin_client: FlaskClient, session: Session
) -> None:
    first = _upload(admin_client, FIRST.encode())
    token = _TOKEN.search(first)
    assert token is not None
    _confirmed(admin_client, post(admin_client, "/admin/import/confirm", {"token": token.group(1)}))
    session.execute(
        update(Bill).where(Bill.invoice_number == "INV-P-3").values(state=BillState.PAID.value)
    )
    session.commit()

    page = _upload(admin_client, SECOND.encode(), "second.csv")
    totals = page.split('id="import-preview-totals"')[1].split("</table>")[0]

    def total(outcome: str) -> str:
        return re.sub(
            r"\s+", " ", totals.split(f'id="preview-total-{outcome}"')[1].split("</tr>")[0]
        )

    assert '<td class="num">1</td><td class="num">Rp 90.000</td>' in total("create")
    assert '<td class="num">1</td><td class="num">Rp 180.000</td>' in total("update")
    assert '<td class="num">1</td><td class="num">Rp 150.000</td>' in total("unchanged")
    assert '<td class="num">1</td><td class="num">Rp 60.000</td>' in total("skip")
    assert '<td class="num">1</td><td class="num">Rp 250.000</td>' in total("conflict")
    created = _section(page, 'id="preview-create"')
    assert "INV-P-4" in created and "Rp 90.000" in created
    updated = _section(page, 'id="preview-update"')
    assert (
        "<del>Rp 175.000</del> → Rp 180.000" in updated and "amount 175000 -&gt; 180000" in updated
    )
    assert "not created" in _section(page, 'id="preview-skip"')
    assert "a conflict" in _section(page, 'id="preview-conflict"')
    # Nothing was written by the check.
    stored = session.scalar(select(Bill.amount).where(Bill.invoice_number == "INV-P-2"))
    assert stored == 175_000
    assert session.scalar(select(Bill.id).where(Bill.invoice_number == "INV-P-4")) is None
    session.commit()


def test_errors_show_each_offending_value(admin_client: FlaskClient) -> None:
    bad = (
        ",".join(HEADER) + "\n"
        + ROW.format(invoice="INV-E-1", amount="15O.000", expires="") + "\n"
        + ROW.format(invoice="INV-E-2", amount="", expires="tomorrow") + "\n"
    )  # fmt: skip
    page = _upload(admin_client, bad.encode())
    assert "nothing was imported" in page
    rows = page.split('id="import-error-rows"')[1].split("</table>")[0]
    assert '<code class="offending">15O.000</code>' in rows
    assert '<code class="offending">tomorrow</code>' in rows
    assert '<code class="offending">(empty)</code>' in rows
    assert re.search(r">2</td>.*<code>amount</code>", rows, re.S)
    assert re.search(r">3</td>.*<code>expires_at</code>", rows, re.S)


def test_the_preview_keeps_counts_and_totals_but_only_the_first_rows() -> None:
    preview = Preview()
    for line in range(2, 2 + import_preview.ROWS_SHOWN + 7):
        preview.add(Outcome.CREATE, line, f"INV-{line}", 1_000)
    preview.add(Outcome.UPDATE, 99, "INV-U", 2_000, previous_amount=2_000, detail="info a -> b")
    data = preview.as_dict()
    assert data["create"]["count"] == import_preview.ROWS_SHOWN + 7
    assert data["create"]["amount"] == 1_000 * (import_preview.ROWS_SHOWN + 7)
    assert len(data["create"]["rows"]) == import_preview.ROWS_SHOWN and data["create"]["more"] == 7
    # An update whose amount stays shows no old amount.
    assert data["update"]["rows"][0]["previous_amount"] is None
    assert preview.amount == 1_000 * (import_preview.ROWS_SHOWN + 7) + 2_000


def test_the_template_downloads_as_csv_and_xlsx_and_passes_the_check(
    admin_client: FlaskClient,
) -> None:
    page = text(admin_client.get("/admin/import"))
    assert 'id="template-csv"' in page and 'id="template-xlsx"' in page
    response = admin_client.get("/admin/import/template.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADER and len(rows) == 3
    workbook = load_workbook(io.BytesIO(admin_client.get("/admin/import/template.xlsx").get_data()))
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert tuple(sheet_rows[0]) == HEADER and sheet_rows[1][7] == 150000
    # Both files are accepted by the import as they are.
    xlsx = admin_client.get("/admin/import/template.xlsx").get_data()
    for name, data in (("template.csv", response.get_data()), ("template.xlsx", xlsx)):
        checked = _upload(admin_client, data, name)
        assert "All 2 rows can be imported: created 2" in checked, checked
    assert admin_client.get("/admin/import/template.pdf").status_code == 404
