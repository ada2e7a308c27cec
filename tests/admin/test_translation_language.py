"""The back office speaks Bahasa Indonesia unless the browser chose English (cookie ``lang``,
the same as the portal's); times carry their zone, counts their number, hints their input."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.models import StaffUser
from tests.admin.conftest import post, text
from tests.factories import make_bill


def _indonesian(client: FlaskClient) -> FlaskClient:
    client.delete_cookie("lang")
    return client


def test_the_login_page_is_in_bahasa_indonesia_without_a_cookie(client: FlaskClient) -> None:
    page = text(_indonesian(client).get("/admin/login"))
    assert '<html lang="id">' in page
    assert "<h1>Masuk staf</h1>" in page and ">Kata sandi</label>" in page
    assert 'aria-pressed="true">Bahasa Indonesia</button>' in page


def test_a_refused_login_says_so_in_bahasa_indonesia(client: FlaskClient, admin: StaffUser) -> None:
    _indonesian(client)
    page = text(
        post(
            client,
            "/admin/login",
            {"email": admin.email, "password": "wrong"},
            token_from="/admin/login",
        )
    )
    assert "Email atau kata sandi salah." in page


def test_staff_pages_are_in_bahasa_indonesia_by_default(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    _indonesian(admin_client)
    page = text(admin_client.get("/admin/"))
    assert '<html lang="id">' in page and "<h1>Dasbor" in page
    assert ">Tagihan</a>" in page and ">Keluar</button>" in page
    page = text(admin_client.get(f"/admin/bills/{bill.id}"))
    assert "Kode pembayaran" in page and "bisa dibayar" in page
    assert ">payable<" not in page and "Payment codes" not in page


def test_switching_language_sets_the_cookie_and_returns_to_the_page(
    admin_client: FlaskClient,
) -> None:
    _indonesian(admin_client)
    response = post(admin_client, "/admin/language", {"language": "en", "next": "/admin/bills?q=x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/bills?q=x"
    cookie = admin_client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en" and cookie.path == "/"
    assert cookie.expires is not None and cookie.http_only
    page = text(admin_client.get("/admin/"))
    assert '<html lang="en">' in page and "<h1>Dashboard" in page
    assert 'aria-pressed="true">English</button>' in page

    post(admin_client, "/admin/language", {"language": "id", "next": "/admin/"})
    assert "<h1>Dasbor" in text(admin_client.get("/admin/"))


def test_a_viewer_may_switch_too(viewer_client: FlaskClient) -> None:
    response = post(viewer_client, "/admin/language", {"language": "id", "next": "/admin/"})
    assert response.status_code == 302
    assert "<h1>Dasbor" in text(viewer_client.get("/admin/"))


def test_the_login_page_switches_before_anyone_logs_in(client: FlaskClient) -> None:
    _indonesian(client)
    response = post(
        client,
        "/admin/language",
        {"language": "en", "next": "/admin/login"},
        token_from="/admin/login",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert "<h1>Staff login</h1>" in text(client.get("/admin/login"))


def test_the_switch_refuses_unknown_languages_and_foreign_pages(admin_client: FlaskClient) -> None:
    assert post(admin_client, "/admin/language", {"language": "fr"}).status_code == 400
    for target in ("https://evil.example/admin/", "//evil.example", "/login", "/\\evil"):
        response = post(admin_client, "/admin/language", {"language": "en", "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/"
    cookie = admin_client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"


def test_the_switch_needs_the_forms_token(client: FlaskClient) -> None:
    response = client.post("/admin/language", data={"language": "en", "next": "/admin/"})
    assert response.status_code == 400


_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?\b(?! WIB)")


def test_every_time_on_a_bill_carries_its_zone(admin_client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    page = text(admin_client.get(f"/admin/bills/{bill.id}"))
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} WIB", page)
    assert _MOMENT.findall(page) == []


def test_counts_are_singular_or_plural(admin_client: FlaskClient) -> None:
    page = text(admin_client.get("/admin/"))
    assert "0 payments" in page and "0 payment<" not in page


def test_form_hints_are_tied_to_their_inputs(admin_client: FlaskClient, session: Session) -> None:
    bill = make_bill(session)
    page = text(admin_client.get(f"/admin/bills/{bill.id}/edit"))
    described = re.findall(r'<(?:input|textarea|select)[^>]*aria-describedby="([^"]+)"', page)
    assert described, "no input is described by its hint"
    for ids in described:
        for hint in ids.split():
            assert f'id="{hint}"' in page
    info = re.search(r'<input[^>]*id="info"[^>]*>', page)
    assert info is not None and 'aria-describedby="info-hint"' in info.group(0)


def test_a_refused_field_is_marked_invalid_with_its_error(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    path = f"/admin/bills/{bill.id}/edit"
    page = text(
        post(admin_client, path, {"amount": "12.5", "due_date": "2031-05-21"}, token_from=path)
    )
    field = re.search(r'<input[^>]*id="amount"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="amount-error"' in field.group(0)
    assert 'id="amount-error"' in page

    bad_info = {"amount": "150000", "due_date": "2031-05-21", "info": "Bayar di kasir ✓"}
    page = text(post(admin_client, path, bad_info, token_from=path))
    info = re.search(r'<input[^>]*id="info"[^>]*>', page)
    assert info is not None and 'aria-describedby="info-hint info-error"' in info.group(0)
