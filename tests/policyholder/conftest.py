"""Fixtures for the portal's pages: the test's app (``web``), a second browser, mail.

On SQLite every transaction holds the write lock: arrange, read what you need into locals,
then ``session.commit()`` before the client's next request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.extensions import limiter
from portal.models import Bill, BillState, Payment, Policyholder
from portal.services.accounts.credentials import set_password
from tests.factories import live_code, make_bill
from tests.smtp import Inbox, smtp_server

PASSWORD = "kata-sandi-rahasia-1"


@pytest.fixture
def web(app: Flask) -> Flask:
    """The portal's app, with fresh login limits."""
    limiter.reset()
    return app


@pytest.fixture
def client(web: Flask) -> FlaskClient:
    return web.test_client()


@pytest.fixture
def other_client(web: Flask) -> FlaskClient:
    """A second browser."""
    return web.test_client()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture
def mail_app(make_app: Any, app: Flask, inbox: Inbox) -> Flask:
    """The portal sending its mail to the local SMTP server ``inbox``."""
    mailing: Flask = make_app(MAIL_SERVER=inbox.host, MAIL_PORT=inbox.port)
    limiter.reset()
    return mailing


@dataclass(frozen=True)
class Holder:
    id: int
    email: str
    name: str
    password: str = PASSWORD


def make_holder(
    session: Session,
    *,
    name: str = "Budi Santoso",
    email: str = "budi@example.com",
    password: str | None = PASSWORD,
    language: str | None = None,
) -> Holder:
    """A policyholder, activated with ``password`` unless it is None. Commits."""
    holder = Policyholder(name=name, email=email, language=language)
    session.add(holder)
    if password is not None:
        set_password(holder, password, now=datetime.now(UTC))
    session.flush()
    result = Holder(id=holder.id, email=email, name=name, password=password or "")
    session.commit()
    return result


@dataclass(frozen=True)
class BillRef:
    id: int
    code: str


def add_bill(session: Session, holder: Holder, **kwargs: Any) -> BillRef:
    """A bill on a new policy of ``holder`` (see tests.factories.make_bill). Commits."""
    bill = make_bill(session, policyholder=session.get(Policyholder, holder.id), **kwargs)
    bill_id = bill.id
    return BillRef(id=bill_id, code=live_code(bill))


def pay(
    session: Session,
    bill: BillRef,
    *,
    paid_at: datetime,
    store: str = "TZ01",
    reference: str = "TRX-0001",
) -> int:
    """Record the store payment of ``bill`` as a notification would. Commits; returns its id."""
    row = session.get(Bill, bill.id)
    assert row is not None
    payment = Payment(
        bill_id=bill.id,
        amount=row.amount,
        paid_at=paid_at,
        payment_code=bill.code,
        agent_id="ALFAMART",
        agent_store_id=store,
        agent_trx_id=reference,
        fingerprint=f"test-{bill.id}",
    )
    row.state = BillState.PAID.value
    session.add(payment)
    session.flush()
    payment_id = payment.id
    session.commit()
    return payment_id


_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path``, as a browser would submit it."""
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def log_in(
    client: FlaskClient,
    email: str,
    password: str = PASSWORD,
    *,
    remember: bool = False,
    next_page: str | None = None,
) -> Any:
    data = {"csrf_token": csrf_token(client), "email": email, "password": password}
    if remember:
        data["remember"] = "y"
    path = "/login" if next_page is None else "/login?" + _query(next=next_page)
    return client.post(path, data=data)


def _query(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def page_text(response: Any) -> str:
    text: str = response.get_data(as_text=True)
    return text
