"""The audit log: logins on both sites, records named as people know them, the diff, filters
and downloads."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from portal.models import AuditEntry, StaffUser
from portal.services.accounts import audit
from portal.services.billing.payment_codes import WIB
from tests.admin.conftest import PASSWORD, audit_rows, post, text
from tests.factories import live_code, make_bill
from tests.policyholder.conftest import csrf_token as portal_csrf_token
from tests.policyholder.conftest import log_in as portal_log_in
from tests.policyholder.conftest import make_holder


def _staff_login(client: FlaskClient, email: str, password: str, address: str) -> Any:
    return post(
        client,
        "/admin/login",
        {"email": email, "password": password},
        token_from="/admin/login",
        environ_base={"REMOTE_ADDR": address},
    )


def _add(session: Session, *, at: datetime, **kwargs: Any) -> int:
    values: dict[str, Any] = {
        "actor": "cli", "action": "policy.update", "entity": "policy", "entity_id": 1,
        "before": None, "after": None,
    } | kwargs  # fmt: skip
    entry = audit.record(session, now=at, **values)
    session.commit()
    return entry.id


def _wib(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=WIB).astimezone(UTC)


def _listed(client: FlaskClient, query: str) -> str:
    response = client.get("/admin/audit?" + query)
    assert response.status_code == 200, text(response)
    return text(response).split('id="audit"')[1]


# Logins on the back office.


def test_a_failed_staff_login_is_audited_with_the_email_tried_never_the_password(
    client: FlaskClient, admin: StaffUser, session: Session
) -> None:
    _staff_login(client, " ADMIN@insurer.example", "guessed-secret-1", "10.1.2.3")
    _staff_login(client, "nobody@insurer.example", "guessed-secret-2", "10.1.2.3")
    failed = audit_rows(session, "staff.login_failed")
    assert [(e.actor, e.entity, e.entity_label, e.remote_addr) for e in failed] == [
        ("admin@insurer.example", "staff", "admin@insurer.example", "10.1.2.3"),
        ("nobody@insurer.example", "staff", "nobody@insurer.example", "10.1.2.3"),
    ]
    for entry in failed:
        written = " ".join(str(v) for v in vars(entry).values())
        assert "guessed-secret" not in written


def test_a_staff_lockout_is_audited_once_when_the_rate_limit_refuses(
    client: FlaskClient,
    admin: StaffUser,
    session: Session,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per 10 minutes")
    for _ in range(2):
        assert _staff_login(client, admin.email, "wrong", "10.4.4.4").status_code == 200
    for _ in range(3):  # refused again and again: one lockout row
        assert _staff_login(client, admin.email, PASSWORD, "10.4.4.4").status_code == 429
    [lockout] = audit_rows(session, "staff.lockout")
    assert (lockout.actor, lockout.remote_addr) == ("admin@insurer.example", "10.4.4.4")
    assert audit_rows(session, "staff.login") == []
    assert len(audit_rows(session, "staff.login_failed")) == 2


def test_staff_login_and_logout_are_audited_for_the_account(
    client: FlaskClient, admin: StaffUser, session: Session
) -> None:
    assert _staff_login(client, admin.email, PASSWORD, "10.7.7.7").status_code == 302
    post(client, "/admin/logout")
    [login] = audit_rows(session, "staff.login")
    [logout] = audit_rows(session, "staff.logout")
    assert (login.staff_id, login.entity_id, login.remote_addr) == (
        admin.id, str(admin.id), "10.7.7.7"
    )  # fmt: skip
    assert (logout.actor, logout.staff_id) == ("admin@insurer.example", admin.id)


# Logins on the portal.


def test_a_failed_portal_login_and_the_lockout_are_audited(
    client: FlaskClient, session: Session, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = make_holder(session)
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per 10 minutes")
    for _ in range(2):
        assert portal_log_in(client, holder.email, "wrong-password-x").status_code == 200
    for _ in range(2):
        assert portal_log_in(client, holder.email, holder.password).status_code == 429
    failed = audit_rows(session, "policyholder.login_failed")
    assert [(e.actor, e.entity, e.staff_id) for e in failed] == [
        (holder.email, "policyholder", None)
    ] * 2
    assert all("wrong-password-x" not in (e.before or "") + (e.after or "") for e in failed)
    [lockout] = audit_rows(session, "policyholder.lockout")
    assert (lockout.actor, lockout.remote_addr) == (holder.email, "127.0.0.1")


def test_portal_login_and_logout_are_audited(client: FlaskClient, session: Session) -> None:
    holder = make_holder(session)
    assert portal_log_in(client, holder.email, holder.password).status_code == 302
    token = portal_csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    [login] = audit_rows(session, "policyholder.login")
    [logout] = audit_rows(session, "policyholder.logout")
    assert (login.actor, login.entity_id, logout.entity_id) == (
        holder.email, str(holder.id), str(holder.id)
    )  # fmt: skip


# Records as people know them, and what changed.


def test_the_audit_page_names_a_bill_by_its_invoice_number_and_links_to_it(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    bill_id, invoice = bill.id, bill.invoice_number
    session.commit()
    post(admin_client, f"/admin/bills/{bill_id}/cancel", {"note": "duplicate bill"})
    listed = _listed(admin_client, "action=bill.cancel")
    assert f'<a href="/admin/bills/{bill_id}">{invoice}</a>' in listed
    assert f"bill {bill_id}" not in listed and f"#{bill_id}" not in listed


def test_rows_from_before_labels_are_named_by_kind_and_number(
    admin_client: FlaskClient, session: Session
) -> None:
    entry_id = _add(session, at=datetime.now(UTC), entity="bill", entity_id=77, after={"x": 1})
    session.get(AuditEntry, entry_id).entity_label = None  # type: ignore[union-attr]
    session.commit()
    assert '<a href="/admin/bills/77">Bill #77</a>' in _listed(admin_client, "entity=bill")


def test_payment_codes_are_named_in_groups_of_four(session: Session) -> None:
    entry = audit.record(
        session, actor="import:bills.csv by ani@insurer.example", action="payment_code.create",
        entity="payment_code", entity_id=5, before=None,
        after={"code": "8896843136604199", "bill_id": 3}, now=datetime.now(UTC),
    )  # fmt: skip
    session.commit()
    assert entry.entity_label == "8896 8431 3660 4199"
    assert entry.actor == "import:bills.csv by ani@insurer.example"


def test_the_entry_shows_only_the_fields_that_changed(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, amount=150_000, footer_message="Halo")
    bill_id = bill.id
    session.commit()
    post(
        admin_client,
        f"/admin/bills/{bill_id}/edit",
        {"amount": "175000", "due_date": "2031-05-21", "info": "", "footer_message": "Halo"},
    )
    [entry] = audit_rows(session, "bill.update")
    page = text(admin_client.get(f"/admin/audit/{entry.id}"))
    table = page.split('id="diff"')[1].split("</table>")[0]
    assert '<tr data-field="amount"><th scope="row">amount</th>' in table
    assert '<td class="before">Rp 150.000</td>' in table
    assert '<td class="after">Rp 175.000</td>' in table
    for unchanged in ("due_date", "footer_message", "invoice_number", "state"):
        assert f'data-field="{unchanged}"' not in table


def test_a_creation_shows_its_values_and_a_deletion_its_old_values(session: Session) -> None:
    moment = datetime.now(UTC)
    created = audit.record(
        session, actor="cli", action="policyholder.create", entity="policyholder", entity_id=1,
        before=None, after={"name": "Budi", "email": "budi@example.com"}, now=moment,
    )  # fmt: skip
    deleted = audit.record(
        session, actor="cli", action="policyholder.delete", entity="policyholder", entity_id=1,
        before={"name": "Budi", "email": "budi@example.com"}, after=None, now=moment,
    )  # fmt: skip
    session.commit()
    assert audit.diff(created) == audit.Diff(
        audit.DiffKind.CREATED,
        [
            audit.FieldChange("email", None, "budi@example.com"),
            audit.FieldChange("name", None, "Budi"),
        ],
    )
    assert audit.diff(deleted).kind == audit.DiffKind.DELETED
    assert [(c.field, c.before, c.after) for c in audit.diff(deleted).changes] == [
        ("email", "budi@example.com", None), ("name", "Budi", None),
    ]  # fmt: skip
    assert created.entity_label == deleted.entity_label == "budi@example.com"


# Filters.


def test_filters_by_who_what_record_and_when_combine_and_paging_keeps_them(
    admin_client: FlaskClient, session: Session
) -> None:
    for n in range(55):  # more than a page, all matching
        _add(session, at=_wib(2026, 11, 10), actor="ani@insurer.example", entity_label="9090900001",
             action="policy.update", after={"n": n})  # fmt: skip
    _add(session, at=_wib(2026, 11, 10), actor="budi@insurer.example", entity_label="9090900001")
    _add(session, at=_wib(2026, 11, 12), actor="ani@insurer.example", entity_label="9090900001")
    _add(session, at=_wib(2026, 11, 10), actor="ani@insurer.example", entity_label="9090900002")
    _add(session, at=_wib(2026, 11, 10), actor="ani@insurer.example", entity_label="9090900001",
         action="policy.create")  # fmt: skip
    query = "actor=ANI%40&action=policy.update&q=900001&from=2026-11-09&to=2026-11-11"
    page = text(admin_client.get("/admin/audit?" + query))
    assert "55 in all" in page
    listed = page.split('id="audit"')[1]
    assert "budi@insurer.example" not in listed and "9090900002" not in listed
    second = page.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    for part in ("actor=ANI@", "action=policy.update", "q=900001", "from=2026-11-09",
                 "to=2026-11-11", "page=2"):  # fmt: skip
        assert part in second
    assert "Page 2 of 2" in text(admin_client.get(second))
    # The day in WIB: 06:00 on the 12th WIB is still the 11th in UTC, yet not in range.
    _add(session, at=_wib(2026, 11, 12, 6), actor="ani@insurer.example",
         entity_label="9090900001")  # fmt: skip
    assert "55 in all" in text(admin_client.get("/admin/audit?" + query))


def test_the_record_filter_takes_percent_and_underscore_literally(
    admin_client: FlaskClient, session: Session
) -> None:
    _add(session, at=datetime.now(UTC), entity="import", entity_label="bills_100%.csv")
    _add(session, at=datetime.now(UTC), entity="import", entity_label="bills-1000.csv")
    listed = _listed(admin_client, "q=_100%25")
    assert "bills_100%.csv" in listed and "bills-1000.csv" not in listed
    assert "bills-1000.csv" not in _listed(admin_client, "actor=%25")


def test_a_payment_code_is_found_typed_with_or_without_spaces(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    code = live_code(bill)
    _add(session, at=datetime.now(UTC), entity="payment_code", entity_id=9,
         after={"code": code, "bill_id": bill.id})  # fmt: skip
    for typed in (code, audit.grouped_code(code)):
        assert audit.grouped_code(code) in _listed(admin_client, f"q={typed}")


@pytest.mark.parametrize(
    "query",
    ["to=9999-12-31", "from=0001-01-01", "from=2026-13-01", "to=yesterday",
     "from=2026-11-10&to=2026-11-01", "to=9999-12-31&format=csv"],
)  # fmt: skip
def test_a_bad_or_out_of_range_day_is_a_form_error_not_a_server_error(
    admin_client: FlaskClient, query: str
) -> None:
    response = admin_client.get("/admin/audit?" + query)
    assert response.status_code == 400
    assert 'class="flash flash-error"' in text(response)
    assert response.mimetype == "text/html"


# Downloads.


def test_the_filtered_entries_download_as_csv_and_xlsx_with_formulas_neutralised(
    admin_client: FlaskClient, session: Session
) -> None:
    hostile = '=HYPERLINK("http://evil.example","x")'
    _add(session, at=_wib(2026, 11, 10), actor="ani@insurer.example", entity="policyholder",
         entity_id=4, entity_label=hostile, action="policyholder.update",
         before={"name": "Budi"}, after={"name": "Budi Santoso"})  # fmt: skip
    _add(session, at=_wib(2026, 11, 10), actor="budi@insurer.example")
    query = "actor=ani&from=2026-11-10&to=2026-11-10"

    export = admin_client.get(f"/admin/audit?{query}&format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    assert [(r["actor"], r["action"], r["entity_id"], r["record"]) for r in rows] == [
        ("ani@insurer.example", "policyholder.update", "4", "'" + hostile)
    ]
    assert rows[0]["changes"] == "name: Budi -> Budi Santoso"
    assert json.loads(rows[0]["after"]) == {"name": "Budi Santoso"}

    workbook = admin_client.get(f"/admin/audit?{query}&format=xlsx")
    assert workbook.status_code == 200
    assert workbook.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    assert sheet is not None
    header, *lines = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(lines) == 1
    record_cell = sheet.cell(row=2, column=header.index("record") + 1)
    assert record_cell.value == hostile and record_cell.data_type == "s"


def test_an_unknown_download_format_is_refused(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/audit?format=pdf").status_code == 400
