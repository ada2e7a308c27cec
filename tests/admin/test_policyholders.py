"""Policyholders and policies from the back office, and their activation links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Policy, Policyholder
from tests.admin.conftest import audit_rows, csrf_token, post, text
from tests.factories import make_bill


def test_policyholders_are_found_by_name_email_or_policy_number(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, customer_name="Anton Budiman", customer_email="anton@example.com")
    make_bill(session, customer_name="Rina Wati", customer_email="rina@example.com")
    number = bill.policy.number
    session.commit()
    for query in ("anton", "ANTON@EXAMPLE", number):
        page = text(admin_client.get("/admin/policyholders", query_string={"q": query}))
        assert "Anton Budiman" in page
        assert "Rina Wati" not in page


def test_policies_are_found_by_number_or_policyholder(
    admin_client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session, customer_name="Anton Budiman")
    number = bill.policy.number
    session.commit()
    assert number in text(admin_client.get("/admin/policies", query_string={"q": "anton"}))
    assert number in text(admin_client.get("/admin/policies", query_string={"q": number}))
    assert number not in text(admin_client.get("/admin/policies", query_string={"q": "zzz"}))


def _new_policyholder(client: FlaskClient, name: str, email: str) -> Any:
    return post(
        client, "/admin/policyholders/new", {"customer_name": name, "customer_email": email}
    )


def _stored(session: Session, email: str) -> Policyholder | None:
    return session.scalar(select(Policyholder).where(Policyholder.email == email))


def test_admin_creates_and_edits_a_policyholder_with_audit_rows(
    admin_client: FlaskClient, session: Session
) -> None:
    response = _new_policyholder(admin_client, "Dewi Lestari", "Dewi@Example.com")
    assert response.status_code == 302
    holder = _stored(session, "dewi@example.com")
    assert holder is not None
    holder_id = holder.id
    session.commit()
    response = post(
        admin_client,
        f"/admin/policyholders/{holder_id}/edit",
        {"customer_name": "Dewi L.", "customer_email": "dewi.l@example.com"},
    )
    assert response.status_code == 302
    session.expire_all()
    holder = session.get(Policyholder, holder_id)
    assert holder is not None and (holder.name, holder.email) == ("Dewi L.", "dewi.l@example.com")
    session.commit()
    [created] = audit_rows(session, "policyholder.create")
    [updated] = audit_rows(session, "policyholder.update")
    assert json.loads(created.after or "{}") == {
        "name": "Dewi Lestari",
        "email": "dewi@example.com",
    }
    assert json.loads(updated.before or "{}")["email"] == "dewi@example.com"
    assert json.loads(updated.after or "{}")["email"] == "dewi.l@example.com"


def test_a_policyholder_email_is_checked_and_unique(
    admin_client: FlaskClient, session: Session
) -> None:
    make_bill(session, customer_email="taken@example.com")
    session.commit()
    taken = post(
        admin_client,
        "/admin/policyholders/new",
        {"customer_name": "X", "customer_email": "TAKEN@example.com"},
    )
    assert "Another policyholder has this email." in text(taken)
    invalid = post(
        admin_client, "/admin/policyholders/new", {"customer_name": "X", "customer_email": "nope"}
    )
    assert "Not a valid email address." in text(invalid)
    assert len(audit_rows(session, "policyholder.create")) == 0


def test_admin_creates_and_edits_a_policy_but_not_its_number(
    admin_client: FlaskClient, session: Session
) -> None:
    holder = Policyholder(name="Dewi", email="dewi@example.com")
    session.add(holder)
    session.commit()
    response = post(
        admin_client,
        f"/admin/policyholders/{holder.id}/policies/new",
        {"policy_number": "7070700001", "policy_type": "Jiwa", "policy_account_name": "Dewi",
         "policy_status": "aktif"},
    )  # fmt: skip
    assert response.status_code == 302
    policy = session.scalar(select(Policy).where(Policy.number == "7070700001"))
    assert policy is not None
    policy_id = policy.id
    session.commit()
    duplicate = post(
        admin_client,
        f"/admin/policyholders/{holder.id}/policies/new",
        {"policy_number": "7070700001", "policy_type": "Jiwa", "policy_account_name": "Dewi",
         "policy_status": "aktif"},
    )  # fmt: skip
    assert "Policy 7070700001 exists already." in text(duplicate)
    response = post(
        admin_client,
        f"/admin/policies/{policy_id}/edit",
        {"policy_number": "9999", "policy_type": "Jiwa Plus", "policy_account_name": "Dewi",
         "policy_status": "lapse"},
    )  # fmt: skip
    assert response.status_code == 302
    session.expire_all()
    policy = session.get(Policy, policy_id)
    assert policy is not None
    assert (policy.number, policy.type, policy.status) == ("7070700001", "Jiwa Plus", "lapse")
    session.commit()
    assert len(audit_rows(session, "policy.create")) == 1
    assert len(audit_rows(session, "policy.update")) == 1


def _outbox(app: Flask) -> list[Path]:
    folder = Path(app.instance_path) / "outbox"
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_admin_sends_a_policyholder_the_activation_link(
    admin_client: FlaskClient, session: Session, app: Flask
) -> None:
    holder = Policyholder(name="Dewi", email="dewi@example.com")
    session.add(holder)
    session.commit()
    before = _outbox(app)
    response = post(admin_client, f"/admin/policyholders/{holder.id}/activation")
    assert response.status_code == 302
    sent = [p for p in _outbox(app) if p not in before]
    assert len(sent) == 1
    message = sent[0].read_text()
    assert "To: dewi@example.com" in message
    assert "http://localhost/activate/" in message
    page = text(admin_client.get(f"/admin/policyholders/{holder.id}"))
    assert "Activation link queued for dewi@example.com." in page
    [entry] = audit_rows(session, "policyholder.send_activation")
    assert "activate/" not in (entry.after or "")  # the link itself is a secret


def test_no_activation_link_for_an_account_already_activated(
    admin_client: FlaskClient, session: Session, app: Flask
) -> None:
    holder = Policyholder(
        name="Dewi", email="dewi@example.com", password_hash="x", activated_at=datetime.now(UTC)
    )
    session.add(holder)
    session.commit()
    before = _outbox(app)
    post(admin_client, f"/admin/policyholders/{holder.id}/activation")
    assert _outbox(app) == before
    assert audit_rows(session, "policyholder.send_activation") == []


def test_an_activation_link_never_takes_the_host_header_of_the_request(
    admin_client: FlaskClient, session: Session, app: Flask
) -> None:
    holder = Policyholder(name="Dewi", email="dewi@example.com")
    session.add(holder)
    session.commit()
    before = _outbox(app)
    # The staff session is real; only the Host header is the attacker's (a raw request).
    token = csrf_token(admin_client)
    cookie = admin_client.get_cookie("admin_session", path="/admin")
    assert cookie is not None
    raw = app.test_client(use_cookies=False)
    response = raw.post(
        f"/admin/policyholders/{holder.id}/activation",
        data={"csrf_token": token},
        headers={
            "Host": "evil.example",
            "X-Forwarded-Host": "evil.example",
            "Cookie": f"admin_session={cookie.value}",
        },
    )
    assert response.status_code == 302, text(response)
    [message] = [p.read_text() for p in _outbox(app) if p not in before]
    assert "evil.example" not in message
    assert "http://localhost/activate/" in message  # PUBLIC_BASE_URL


def test_a_name_with_a_bidi_override_is_a_form_error_and_nothing_is_saved(
    admin_client: FlaskClient, session: Session
) -> None:
    response = _new_policyholder(admin_client, "Budi \u202eosotnaS", "budi.rlo@example.com")
    assert response.status_code == 200
    assert "U+202E" in text(response)
    assert _stored(session, "budi.rlo@example.com") is None


def test_the_policy_form_offers_the_status_vocabulary_and_refuses_anything_else(
    admin_client: FlaskClient, session: Session, app: Flask
) -> None:
    holder = Policyholder(name="Dewi", email="dewi@example.com")
    session.add(holder)
    session.commit()
    path = f"/admin/policyholders/{holder.id}/policies/new"
    form = text(admin_client.get(path))
    assert '<select id="policy_status" name="policy_status"' in form
    for status in app.config["POLICY_STATUSES"]:
        assert f'<option value="{status}">' in form
    for typed in ("Aktif", "gone"):
        refused = post(admin_client, path, {
            "policy_number": "7070700002", "policy_type": "Jiwa",
            "policy_account_name": "Dewi", "policy_status": typed})  # fmt: skip
        assert refused.status_code == 200 and "Not a valid choice" in text(refused)
    assert session.scalar(select(Policy).where(Policy.number == "7070700002")) is None
    session.commit()
