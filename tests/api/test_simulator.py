"""``flask doku inquire``: plays DOKU in-process and against a live gunicorn server."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import BillState, Inquiry
from tests.factories import live_code, make_bill
from tests.live import gunicorn


def _inquire(runner: Any, *args: str) -> Result:
    result: Result = runner.invoke(args=["doku", "inquire", *args])
    return result


def test_simulator_prints_what_the_cashier_sees(runner: Any, session: Session) -> None:
    bill = make_bill(session, amount=1_250_000, footer_message="Call Center 021 555-0525")
    code = live_code(bill)
    result = _inquire(runner, code)
    assert result.exit_code == 0, result.output
    assert "response signature verified" in result.output
    assert "Status        : success" in result.output
    assert "Amount        : Rp 1.250.000" in result.output
    assert f"Payment code  : {code[:4]} {code[4:8]}" in result.output
    assert "|Call Center 021 555-0525                |" in result.output


def test_simulator_shows_refusals(runner: Any, session: Session) -> None:
    result = _inquire(runner, live_code(make_bill(session, state=BillState.PAID)))
    assert "HTTP 400" in result.output
    assert "billing_already_paid" in result.output


def test_simulator_reports_a_server_it_cannot_reach(runner: Any) -> None:
    result = _inquire(runner, "8896000000000000", "--url", "http://127.0.0.1:9")
    assert result.exit_code != 0
    assert "Could not reach" in result.output


@pytest.mark.live
def test_simulator_against_a_live_gunicorn_server(
    runner: Any, session: Session, database_url_for_tests: str
) -> None:
    code = live_code(make_bill(session))
    with gunicorn(database_url_for_tests, workers=2) as url:
        result = _inquire(runner, code, "--url", url)
    assert result.exit_code == 0, result.output
    assert f"POST {url}/doku/inquiry" in result.output
    assert "HTTP 200, response signature verified" in result.output
    assert "Status        : success" in result.output
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 1


@pytest.mark.live
def test_simulator_refuses_an_answer_signed_with_another_key(
    runner: Any, session: Session, database_url_for_tests: str
) -> None:
    code = live_code(make_bill(session))
    with gunicorn(database_url_for_tests, workers=1, DOKU_SECRET_KEY="SK-another-key") as url:
        result = _inquire(runner, code, "--url", url)
    assert result.exit_code != 0
    assert "HTTP 401: the server refused OUR request" in result.output
    assert "DOKU_SECRET_KEY" in result.output
