"""How many transactions DOKU's calls cost: counted on the engine, not assumed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Payment, ReceivedNotification
from tests.factories import inquire, live_code, make_bill, notification_body_for, notify


@contextmanager
def counted_commits(app: Flask) -> Iterator[list[str]]:
    """Every COMMIT the engine sees (ORM, Core and autocommit statements alike)."""
    commits: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_commit(_connection: Any) -> None:
        commits.append("commit")

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # An autocommit statement is a transaction of its own with no COMMIT event.
        if _conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            commits.append("autocommit: " + statement.split(None, 1)[0])

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "before_cursor_execute", on_statement)


def test_a_first_notification_costs_at_most_two_transactions_and_is_applied_once(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    bill = make_bill(session)
    body = notification_body_for(bill)
    session.commit()
    with counted_commits(app) as commits:
        response = notify(client, body, request_id="first-delivery")
    assert response.status_code == 200
    assert len(commits) <= 2, commits
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
    [delivery] = session.scalars(select(ReceivedNotification)).all()
    assert (delivery.verdict, delivery.outcome) == ("authenticated", "applied")


def test_an_inquiry_costs_one_transaction(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    code = live_code(make_bill(session))
    session.commit()
    with counted_commits(app) as commits:
        assert inquire(client, code).status_code == 200
    assert len(commits) <= 1, commits
