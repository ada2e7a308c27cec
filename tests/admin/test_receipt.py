"""The receipt defaults editor: preview as the till prints, the import's rules, the inquiry."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import ReceiptDefaults
from tests.admin.conftest import audit_rows, post, text
from tests.factories import check_response_signature, inquire, live_code, make_bill


def _answer(client: FlaskClient, code: str) -> dict[str, object]:
    request_id = str(uuid.uuid4())
    return check_response_signature(inquire(client, code, request_id=request_id), request_id)


def test_the_editor_shows_the_configured_defaults_laid_out_for_the_till(
    admin_client: FlaskClient, app: Flask
) -> None:
    page = text(admin_client.get("/admin/receipt"))
    footer = app.config["DEFAULT_FOOTER_MESSAGE"]
    assert "|" + footer[:40] + "|" in page
    assert "(configured default)" in page


def test_preview_lays_out_40_column_lines_without_saving(
    admin_client: FlaskClient, session: Session
) -> None:
    footer = "A" * 40 + "B" * 40 + "C" * 5
    response = post(
        admin_client, "/admin/receipt", {"info": "", "footer_message": footer, "action": "preview"}
    )
    page = text(response)
    assert "|" + "A" * 40 + "|" in page
    assert "|" + "B" * 40 + "|" in page
    assert "|CCCCC" + " " * 35 + "|" in page
    assert "A word is cut at the end of line" in page
    assert session.get(ReceiptDefaults, 1) is None


def test_saved_defaults_are_answered_by_the_next_inquiry(
    admin_client: FlaskClient, session: Session
) -> None:
    code = live_code(make_bill(session))
    response = post(
        admin_client,
        "/admin/receipt",
        {"info": "Premi Bulanan", "footer_message": "Hubungi 1500-123", "action": "save"},
    )
    assert response.status_code == 302
    body = _answer(admin_client, code)
    assert body["online_to_offline_info"] == {"payment_code": code, "info": "Premi Bulanan"}
    assert body["alfa_info"] == {"receipt": {"footer_message": "Hubungi 1500-123"}}
    [entry] = audit_rows(session, "receipt_defaults.update")
    assert entry.before is None
    assert '"info": "Premi Bulanan"' in (entry.after or "")


def test_emptied_defaults_fall_back_to_the_configuration(
    admin_client: FlaskClient, session: Session, app: Flask
) -> None:
    session.add(ReceiptDefaults(id=1, info="Lama", footer_message="Lama"))
    code = live_code(make_bill(session))
    post(admin_client, "/admin/receipt", {"info": "", "footer_message": ""})
    body = _answer(admin_client, code)
    assert body["online_to_offline_info"] == {
        "payment_code": code,
        "info": app.config["DEFAULT_INFO"],
    }
    [entry] = audit_rows(session, "receipt_defaults.update")
    assert '"info": "Lama"' in (entry.before or "")


def test_text_the_till_cannot_print_is_refused_with_the_import_message(
    admin_client: FlaskClient, session: Session
) -> None:
    too_long = post(admin_client, "/admin/receipt", {"info": "", "footer_message": "x" * 121})
    assert "Footer message is 121 characters; the receipt holds at most 120." in text(too_long)
    accented = post(admin_client, "/admin/receipt", {"info": "Prémi", "footer_message": ""})
    assert "Info can only hold printable ASCII characters" in text(accented)
    assert session.get(ReceiptDefaults, 1) is None


def test_the_footer_field_feeds_the_live_preview_script(admin_client: FlaskClient) -> None:
    page = text(admin_client.get("/admin/receipt"))
    assert 'data-till-source="default-footer"' in page
    assert 'id="default-footer"' in page
