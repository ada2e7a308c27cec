"""axe-core finds nothing on any back-office page, on a desktop (1366x768) and a phone (390x844).

An admin logs in (in Bahasa Indonesia, the back office's default) on demo data with DOKU traffic,
an exception, a failed job and an import made through the browser, then every GET page of the
admin blueprint is opened (taken from the app's URL map: a page added later is visited too, or
this test says which id it lacks) and checked with axe: no violation, amounts right-aligned,
payment codes grouped for reading. Screenshots: test-artifacts/screenshots/admin-a11y-*.png;
the language switch, from Bahasa Indonesia to English and back: admin-language-*.png.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import (
    AuditEntry,
    Bill,
    ImportRun,
    JobFailure,
    JobRun,
    PaymentException,
    Policy,
    Policyholder,
    StaffRole,
)
from portal.models.doku import Inquiry, ReceivedNotification
from portal.services import demo
from portal.services.billing.imports import HEADER
from tests.admin.conftest import PASSWORD, make_staff
from tests.e2e.conftest import screenshot
from tests.factories import CODE_SETTINGS, inquire, notification_body_for, notify

pytestmark = pytest.mark.live

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
# Endpoints that answer with a file, not a page.
DOWNLOADS = frozenset({"admin.export_bills", "admin.export_payments"})
# Reached before logging in (the login page) or only by following a job (the import check).
VISITED_ON_THE_WAY = frozenset({"admin.login", "admin.import_checked"})

_AXE: Any = None


def _axe() -> Any:
    global _AXE
    if _AXE is None:
        from axe_playwright_python.sync_playwright import Axe

        _AXE = Axe()
    return _AXE


def _arrange(session: Session, client: FlaskClient) -> None:
    """Demo bills, DOKU traffic for each, a wrong amount paid (an exception), a good payment,
    a job that failed every attempt."""
    now = datetime.now(UTC)
    demo.seed(session, settings=CODE_SETTINGS, now=now, secret_key="a11y")
    session.commit()
    for _bill, code in demo.demo_codes(session):
        assert inquire(client, code).status_code in (200, 400, 404)
    session.commit()
    bills = {b.invoice_number: b for b in session.scalars(select(Bill))}
    assert notify(client, notification_body_for(bills["DEMO-INV-0001"], amount=1_000)).status_code
    assert notify(client, notification_body_for(bills["DEMO-INV-0002"])).status_code == 200
    session.add(
        JobFailure(
            task_id="a11y-1",
            task_name="mail.send_activation",
            arguments='{"args": [1], "kwargs": {}}',
            error="SMTPServerDisconnected: Connection unexpectedly closed",
            attempts=5,
        )
    )
    session.commit()


def _problems(page: Any) -> list[str]:
    """What axe finds, plus amounts that are not right-aligned and codes not grouped."""
    results = _axe().run(page)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
    ]
    left_amounts = page.eval_on_selector_all(
        "td, th",
        # In a table; a phone's card (a row shown as a block) has each value by its label.
        "cells => cells.filter(c => /^-?Rp\\s?[0-9.]+$/.test(c.textContent.trim())"
        " && getComputedStyle(c).display === 'table-cell'"
        " && getComputedStyle(c).textAlign !== 'right').map(c => c.textContent.trim())",
    )
    if left_amounts:
        found.append(f"amounts not right-aligned: {left_amounts[:5]}")
    # Codes as people read them; the raw DOKU bodies (pre) are shown exactly as sent.
    shown = page.eval_on_selector(
        "main",
        "m => { const c = m.cloneNode(true); c.querySelectorAll('pre').forEach("
        "p => p.remove()); return c.textContent; }",
    )
    ungrouped = re.findall(r"\b\d{16}\b", shown)
    if ungrouped:
        found.append(f"payment codes not grouped: {ungrouped[:3]}")
    return found


def _check(page: Any, name: str, viewport: str, problems: dict[str, list[str]]) -> None:
    assert page.evaluate("document.documentElement.lang") == "id", name
    screenshot(page, f"admin-a11y-{viewport}-{name}")
    found = _problems(page)
    if found:
        problems[f"{name} {page.url}"] = found


def _follow_job(page: Any) -> None:
    page.wait_for_selector("#job-run[data-state=done]", timeout=30_000)
    page.click("#job-result-page")


def _import_through_the_browser(
    page: Any, live_url: str, tmp_path: Path, viewport: str, problems: dict[str, list[str]]
) -> None:
    csv = tmp_path / f"tagihan-{viewport}.csv"
    csv.write_text(
        ",".join(HEADER) + "\n"
        f"7070701,Jiwa,Dewi,aktif,Dewi Lestari,dewi@example.com,INV-A11Y-{viewport},"
        "150000,2031-05-21,,,,\n",
        encoding="utf-8",
    )
    page.goto(f"{live_url}/admin/import")
    page.set_input_files("#csv_file", str(csv))
    page.click("#check-import")
    page.wait_for_selector("#job-run[data-state=done]", timeout=30_000)
    _check(page, "job-run", viewport, problems)
    page.click("#job-result-page")
    page.wait_for_selector("#import-ok")
    _check(page, "import-checked", viewport, problems)
    page.click("#confirm-import")
    _follow_job(page)
    page.wait_for_selector("#import-run")


def _ids(session: Session) -> dict[str, Any]:
    """A record for each kind of page, the richest there is."""
    session.expire_all()
    bill = session.scalar(select(Bill).where(Bill.invoice_number == "DEMO-INV-0001"))
    assert bill is not None
    found = {
        "bill_id": bill.id,
        "policy_id": bill.policy_id,
        "holder_id": session.scalar(
            select(Policy.policyholder_id).where(Policy.id == bill.policy_id)
        ),
        "entry_id": session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())),
        "inquiry_id": session.scalar(select(Inquiry.id).order_by(Inquiry.id)),
        "notification_id": session.scalar(select(ReceivedNotification.id)),
        "exception_id": session.scalar(select(PaymentException.id)),
        "admin.import_run": session.scalar(select(ImportRun.id).order_by(ImportRun.id.desc())),
        "admin.job_run": session.scalar(select(JobRun.id).order_by(JobRun.created_at.desc())),
    }
    assert session.scalar(select(Policyholder.id).where(Policyholder.id == found["holder_id"]))
    session.commit()
    missing = [key for key, value in found.items() if value is None]
    assert missing == [], f"the arranged data has no {missing}"
    return found


def _pages(app: Flask, ids: dict[str, Any]) -> list[tuple[str, str]]:
    pages = []
    unknown = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            endpoint = rule.endpoint
            if not endpoint.startswith("admin.") or "GET" not in (rule.methods or ()):
                continue
            if endpoint in DOWNLOADS or endpoint in VISITED_ON_THE_WAY:
                continue
            if "file_format" in rule.arguments:  # /bills/export.<file_format> and the like
                continue
            values = {}
            for argument in rule.arguments:
                value = ids.get(endpoint) if argument == "run_id" else ids.get(argument)
                if value is None:
                    unknown.append(f"{endpoint}: {argument}")
                values[argument] = value
            pages.append((endpoint.removeprefix("admin."), url_for(endpoint, **values)))
    assert unknown == [], "give this test a record for these pages"
    return pages


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_axe_finds_nothing_on_any_back_office_page(
    browser: Any,
    live_url: str,
    app: Flask,
    session: Session,
    client: FlaskClient,
    tmp_path: Path,
    viewport: str,
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    _arrange(session, client)
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="id-ID")
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        page.goto(f"{live_url}/admin/login")
        _check(page, "login", viewport, problems)
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_url}/admin/")
        _import_through_the_browser(page, live_url, tmp_path, viewport, problems)

        pages = _pages(app, _ids(session))
        assert len(pages) >= 25
        for name, path in pages:
            response = page.goto(f"{live_url}{path}")
            assert response is not None and response.status == 200, (name, path)
            _check(page, name, viewport, problems)
        # A refused form shows its errors: they are checked too.
        page.goto(f"{live_url}/admin/bills/{_ids(session)['bill_id']}/edit")
        page.fill("#amount", "12.5")
        page.click("button[value=save]")
        page.wait_for_selector(".has-error")
        _check(page, "bill-form-refused", viewport, problems)
    finally:
        context.close()
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_staff_switch_the_back_office_to_english_and_back(
    browser: Any, live_url: str, session: Session, viewport: str
) -> None:
    email = make_staff(session, StaffRole.ADMIN).email
    session.commit()  # reading the email began a transaction: on SQLite it holds the write lock
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-US")
    page = context.new_page()
    try:
        # Bahasa Indonesia by default, whatever the browser's own language.
        page.goto(f"{live_url}/admin/login")
        assert page.locator("h1").inner_text() == "Masuk staf"
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_url}/admin/")
        page.goto(f"{live_url}/admin/bills?q=budi")
        assert page.locator("h1").inner_text() == "Tagihan"
        switch = page.locator("form.lang button[value=en]")
        assert switch.get_attribute("aria-pressed") == "false"
        switch.click()
        # The same page, with its search, in English; the choice outlives the session.
        page.wait_for_url(f"{live_url}/admin/bills?q=budi")
        assert page.locator("h1").inner_text() == "Bills"
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("form.lang button[value=en]").get_attribute("aria-pressed") == "true"
        screenshot(page, f"admin-language-english-{viewport}")
        page.click("form.whoami button")
        page.wait_for_url(re.compile(r".*/admin/login.*"))
        assert page.locator("h1").inner_text() == "Staff login"
        page.locator("form.lang button[value=id]").click()
        page.wait_for_url(re.compile(r".*/admin/login.*"))
        assert page.locator("h1").inner_text() == "Masuk staf"
        screenshot(page, f"admin-language-indonesian-{viewport}")
    finally:
        context.close()
