"""What the inquiry decides for a payment code, what the till is told about the bill, and how
each answer is recorded once: straight against ``decide`` and ``record``."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool, Pool, StaticPool

from portal.extensions import db
from portal.models import BillState, Inquiry, ReceiptDefaults
from portal.services.billing.payability import PayabilityRules, Refusal
from portal.services.traffic.inquiries import (
    Answered,
    BillSnapshot,
    Decision,
    InquiryAsked,
    InquiryReceived,
    InquiryRules,
    Recorded,
    RequestIdReused,
    Verdict,
    answer,
    body_sha256,
    decide,
    record,
    record_engine,
    record_invalid,
)
from tests.factories import make_bill

NOW = datetime(2031, 5, 20, 5, 0, tzinfo=UTC)
RULES = InquiryRules(
    payability=PayabilityRules(
        min_amount=10_000,
        max_amount=5_000_000,
        policy_statuses=("aktif", "lapse"),
        payable_statuses=frozenset({"aktif"}),
    ),
    default_info="Premi Asuransi",
    default_footer_message="Terima kasih.",
)


def _decide(session: Session, code: str, now: datetime = NOW) -> Decision:
    return decide(session.connection(), code, now=now, rules=RULES)


def _code(bill: Any) -> str:
    code: str = bill.current_code.code
    return code


def test_rules_come_from_configuration() -> None:
    config = {
        "ALFA_MIN_AMOUNT": 1,
        "ALFA_MAX_AMOUNT": 2,
        "POLICY_STATUSES": ("Aktif", "Lapse"),
        "ACTIVE_POLICY_STATUSES": ("Aktif",),
        "DEFAULT_INFO": "info",
        "DEFAULT_FOOTER_MESSAGE": "footer",
    }
    assert InquiryRules.from_config(config) == InquiryRules(
        payability=PayabilityRules(1, 2, ("aktif", "lapse"), frozenset({"aktif"})),
        default_info="info",
        default_footer_message="footer",
    )


def test_a_payable_bill_is_answered_with_everything_the_till_shows(session: Session) -> None:
    bill = make_bill(
        session, amount=275_000, expires_at=NOW + timedelta(days=1), due_date=date(2031, 5, 21),
        info="Premi Jiwa", footer_message="Terima kasih, Ibu Siti.", customer_name="Siti Rahayu",
        customer_email="siti@example.com",
    )  # fmt: skip
    assert _decide(session, _code(bill)) == Decision(
        Verdict.SUCCESS,
        BillSnapshot(
            bill_id=bill.id,
            invoice_number=bill.invoice_number,
            amount=275_000,
            due_date=date(2031, 5, 21),
            info="Premi Jiwa",
            footer_message="Terima kasih, Ibu Siti.",
            customer_name="Siti Rahayu",
            customer_email="siti@example.com",
            policy_type="Dana Pendidikan",
            policy_number=bill.policy.number,
            policy_account_name="Andreas",
            policy_status="aktif",
        ),
    )


def test_a_bill_without_its_own_texts_gets_the_configured_ones(session: Session) -> None:
    bill = make_bill(session, expires_at=NOW + timedelta(days=1))
    snapshot = _decide(session, _code(bill)).bill
    assert snapshot is not None
    assert (snapshot.info, snapshot.footer_message) == ("Premi Asuransi", "Terima kasih.")


def test_a_bill_without_its_own_texts_gets_the_ones_staff_edited(session: Session) -> None:
    session.add(ReceiptDefaults(id=1, info="Edited info", footer_message="Edited footer"))
    bill = make_bill(session, expires_at=NOW + timedelta(days=1))
    snapshot = _decide(session, _code(bill)).bill
    assert snapshot is not None
    assert (snapshot.info, snapshot.footer_message) == ("Edited info", "Edited footer")


def test_an_unknown_code_is_not_found_and_names_no_bill(session: Session) -> None:
    make_bill(session, expires_at=NOW + timedelta(days=1))
    assert _decide(session, "8896000000000000") == Decision(
        Verdict.BILLING_NOT_FOUND, reason="no live bill has this payment code"
    )


def test_a_replaced_code_is_not_found(session: Session) -> None:
    bill = make_bill(session, expires_at=NOW + timedelta(days=1))
    code = _code(bill)
    bill.current_code.retired_at = NOW - timedelta(days=1)  # type: ignore[union-attr]
    session.commit()
    assert _decide(session, code).verdict is Verdict.BILLING_NOT_FOUND


def test_a_code_at_its_expiry_moment_is_expired_and_a_second_before_it_is_payable(
    session: Session,
) -> None:
    expires_at = NOW + timedelta(hours=1)
    code = _code(make_bill(session, expires_at=expires_at))
    assert _decide(session, code, now=expires_at - timedelta(seconds=1)).verdict is Verdict.SUCCESS
    at_expiry = _decide(session, code, now=expires_at)
    assert (at_expiry.verdict, at_expiry.refusal, at_expiry.reason) == (
        Verdict.BILLING_WAS_EXPIRED,
        Refusal.EXPIRED,
        "code expired at 2031-05-20T06:00:00Z",
    )
    assert at_expiry.bill is not None


@pytest.mark.parametrize(
    ("bill", "verdict", "refused", "reason"),
    [
        ({"state": BillState.PAID}, Verdict.BILLING_ALREADY_PAID, Refusal.PAID, "bill is paid"),
        ({"state": BillState.CANCELLED}, Verdict.DECLINE, Refusal.CANCELLED, "bill is cancelled"),
        ({"policy_status": "lapse"}, Verdict.DECLINE, Refusal.POLICY_NOT_PAYABLE,
         "policy status is 'lapse'"),
        ({"amount": 9_999}, Verdict.DECLINE, Refusal.AMOUNT_TOO_SMALL,
         "amount 9999 is outside the Alfa limits 10000-5000000"),
        ({"amount": 5_000_001}, Verdict.DECLINE, Refusal.AMOUNT_TOO_LARGE,
         "amount 5000001 is outside the Alfa limits 10000-5000000"),
    ],
    ids=["paid", "cancelled", "policy", "too-small", "too-large"],
)  # fmt: skip
def test_a_refused_bill_is_answered_with_its_verdict_reason_and_the_bill(
    session: Session, bill: dict[str, Any], verdict: Verdict, refused: Refusal, reason: str
) -> None:
    made = make_bill(session, expires_at=NOW + timedelta(days=1), **bill)
    decision = _decide(session, _code(made))
    assert (decision.verdict, decision.refusal, decision.reason) == (verdict, refused, reason)
    assert decision.bill is not None and decision.bill.bill_id == made.id


# Recording: one row per Request-Id; the first answer is the answer.


def _record(connection: Connection, **changes: Any) -> Recorded:
    """``record`` one inquiry: the defaults below with ``changes``."""
    entry: dict[str, Any] = {
        "received_at": NOW,
        "client_id": "MCH-1",
        "request_id": "req-1",
        "request_timestamp": "2031-05-20T05:00:00Z",
        "request_sha256": body_sha256(b"{}"),
        "verdict": "success",
        "http_status": 200,
        "request_body": "{}",
        "response_body": '{"first":true}',
    }
    entry.update(changes)
    answered = Answered(entry.pop("http_status"), entry.pop("response_body"))
    return record(connection, entry, answered, entry.pop("verdict"))


def _rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Inquiry)) or 0


def test_a_new_request_id_is_recorded_and_answered_as_decided(session: Session) -> None:
    connection = session.connection()
    assert _record(connection) == Recorded(200, '{"first":true}', replayed=False, verdict="success")
    assert _rows(session) == 1


def test_the_same_request_again_gets_the_first_answer_and_no_second_row(
    session: Session,
) -> None:
    connection = session.connection()
    _record(connection)
    again = _record(connection, http_status=400, response_body='{"second":true}')
    assert again == Recorded(200, '{"first":true}', replayed=True, verdict="success")
    assert _rows(session) == 1


def test_the_same_request_id_with_another_body_is_refused(session: Session) -> None:
    connection = session.connection()
    _record(connection)
    with pytest.raises(RequestIdReused, match="req-1"):
        _record(connection, request_sha256=body_sha256(b"{ }"))
    assert _rows(session) == 1


def test_the_same_request_id_from_another_client_is_another_request(session: Session) -> None:
    connection = session.connection()
    _record(connection)
    other = _record(connection, client_id="MCH-2", response_body='{"other":true}')
    assert other == Recorded(200, '{"other":true}', replayed=False, verdict="success")
    again = _record(connection, client_id="MCH-2", response_body='{"later":true}')
    assert again == Recorded(200, '{"other":true}', replayed=True, verdict="success")
    assert _rows(session) == 2


def test_among_many_recorded_requests_a_repeat_gets_its_own_first_answer(
    session: Session,
) -> None:
    connection = session.connection()
    for n in range(3):
        _record(connection, request_id=f"req-{n}", response_body=f'{{"n":{n}}}')
    assert _record(connection, request_id="req-1") == Recorded(200, '{"n":1}', True, "success")
    assert _rows(session) == 3


def test_a_body_is_told_apart_by_its_sha256() -> None:
    assert body_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _durability(connection: Connection) -> str:
    if connection.dialect.name == "postgresql":
        return str(connection.exec_driver_sql("SHOW synchronous_commit").scalar_one())
    # SQLite: 1 = NORMAL, 2 = FULL
    return {1: "normal", 2: "full"}[connection.exec_driver_sql("PRAGMA synchronous").scalar_one()]


def test_the_inquiry_records_on_autocommit_connections_that_do_not_wait_for_the_disk(
    app: Flask,
) -> None:
    """The inquiry's engine: autocommit, and commits that do not wait for the disk, from the
    moment each connection opens; the app's engine, which payments use, keeps full durability;
    disposing the app's engine disposes the inquiry's too."""
    with app.app_context():
        engine = db.engine
        postgresql = engine.dialect.name == "postgresql"
        fast = record_engine(engine)
        assert fast is not engine
        assert record_engine(engine) is fast  # one per engine
        with fast.connect() as connection:
            assert _durability(connection) == ("off" if postgresql else "normal")
            raw: Any = connection.connection.dbapi_connection
            assert (raw.autocommit if postgresql else raw.isolation_level is None) is True
            _record(connection, request_id="durability")  # committed by itself
        for _ in range(3):  # whichever pooled connection comes next
            with engine.connect() as connection:
                assert _durability(connection) == ("on" if postgresql else "full")
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(Inquiry)).scalar_one() == 1
        checked_in = fast.pool.checkedin()  # type: ignore[attr-defined]
        assert checked_in >= 1 or not postgresql
        engine.dispose()
        assert fast.pool.checkedin() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_an_in_memory_database_records_its_inquiries_in_that_same_database(url: str) -> None:
    """An in-memory SQLite database lives in its engine's connection: an engine of the
    inquiry's own would open another, empty one, so the inquiry keeps to the app's engine."""
    engine = create_engine(url)
    try:
        Inquiry.__table__.create(engine)
        assert record_engine(engine) is engine
        with record_engine(engine).begin() as connection:
            _record(connection, request_id="in-memory")
        with engine.connect() as connection:
            assert connection.execute(select(Inquiry.request_id)).scalars().all() == ["in-memory"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("pool", [NullPool, StaticPool])
def test_on_a_sqlite_file_the_inquirys_engine_pools_connections_as_the_apps_engine_does(
    tmp_path: Path, pool: type[Pool]
) -> None:
    """The pool configured for the app's engine (SQLALCHEMY_ENGINE_OPTIONS) holds for the
    inquiry's connections too, not SQLAlchemy's default for a file."""
    engine = create_engine(f"sqlite:///{tmp_path / 'portal.sqlite3'}", poolclass=pool)
    try:
        fast = record_engine(engine)
        assert fast is not engine
        assert type(fast.pool) is pool
        with fast.connect() as connection:
            assert _durability(connection) == "normal"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("", "-c synchronous_commit=off"),
        ("?options=-csearch_path%3Dtenant", "-csearch_path=tenant -c synchronous_commit=off"),
        ("?options=-ca%3D1&options=-cb%3D2", "-ca=1 -cb=2 -c synchronous_commit=off"),
    ],
    ids=["no options", "one option", "two options"],
)
def test_on_postgresql_the_inquirys_connections_keep_the_urls_options_and_skip_the_disk_wait(
    query: str, options: str
) -> None:
    """A DATABASE_URL with no ``options`` (as a deployment's usually is), one, or several:
    the inquiry's connections keep every one of them (a search_path, say) and add
    ``synchronous_commit=off``. Nothing connects: the URL is what the engine will open."""
    engine = create_engine(f"postgresql+psycopg://portal@127.0.0.1:5432/portal{query}")
    try:
        fast = record_engine(engine)
        assert fast is not engine
        assert fast.url.query["options"] == options
        assert fast.url.set(query={}) == engine.url.set(query={})
    finally:
        engine.dispose()


def test_on_sqlite_the_inquirys_lookup_takes_no_write_lock(app: Flask, database_kind: str) -> None:
    """A payment (or an import chunk) holding SQLite's write lock does not stop the inquiry's
    lookup: only its insert waits for the lock."""
    if database_kind != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    with app.app_context():
        engine = db.engine
        bill = make_bill(db.session)
        code = bill.current_code.code  # type: ignore[union-attr]
        db.session.commit()
        with engine.connect() as writer:
            writer.exec_driver_sql("UPDATE bills SET info = 'held' WHERE 0")  # BEGIN IMMEDIATE
            with record_engine(engine).connect() as connection:
                connection.exec_driver_sql("PRAGMA busy_timeout = 0")
                decision = decide(connection, code, now=datetime.now(UTC), rules=RULES)
            writer.rollback()
        assert decision.verdict is Verdict.SUCCESS


def _received(
    request_id: str,
    body: bytes = b"{}",
    *,
    received_at: datetime | None = None,
    request_timestamp: str = "2031-05-20T05:00:00Z",
    remote_addr: str = "127.0.0.1",
) -> InquiryReceived:
    return InquiryReceived(
        received_at=received_at or datetime.now(UTC),
        client_id="MCH-1",
        request_id=request_id,
        request_timestamp=request_timestamp,
        request_sha256=body_sha256(body),
        request_body=body.decode(),
        remote_addr=remote_addr,
    )


def test_a_connection_lost_in_the_prepared_inquiry_is_raised_as_invalidated(
    app: Flask, session: Session, database_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend gone mid-inquiry is raised as SQLAlchemy raises a lost connection (its
    ``connection_invalidated`` set), so no caller takes it for an error of the statement."""
    if database_kind != "postgresql":
        pytest.skip("the prepared statements run on PostgreSQL (psycopg) only")
    from portal.services.traffic import inquiries

    code = _code(make_bill(session))
    session.commit()
    killer = dataclasses.replace(
        inquiries._driver_statements(), lookup="SELECT pg_terminate_backend(pg_backend_pid())"
    )
    monkeypatch.setattr(inquiries, "_driver_statements", lambda: killer)
    asked = InquiryAsked(payment_code=code, inquiry_date="20310520120000")
    with app.app_context(), pytest.raises(DBAPIError) as raised:
        answer(
            db.session(), _received("lost-1"), asked, rules=RULES,
            respond=lambda _code, _decision: Answered(200, "{}"),
        )  # fmt: skip
    assert raised.value.connection_invalidated is True


def test_answer_decides_records_once_and_replays_the_first_answer(
    app: Flask, session: Session
) -> None:
    """``answer`` as the view calls it (on PostgreSQL: the prepared statements on psycopg's
    connection), then the connection is as durable as before."""
    code = _code(make_bill(session))
    session.commit()
    asked = InquiryAsked(payment_code=code, inquiry_date="20310520120000", agent_id="ALFAMART")
    calls: list[Decision] = []

    def respond(payment_code: str, decision: Decision) -> Answered:
        calls.append(decision)
        status = 200 if decision.verdict is Verdict.SUCCESS else 400
        return Answered(status, f'{{"code":"{payment_code}"}}')

    with app.app_context():
        engine = db.engine
        own = db.session()  # a session of its own, in no transaction (as a DOKU request's)
        first = answer(own, _received("answer-1"), asked, rules=RULES, respond=respond)
        again = answer(own, _received("answer-1"), asked, rules=RULES, respond=respond)
        with pytest.raises(RequestIdReused, match="answer-1"):  # the Request-Id staff look for
            answer(own, _received("answer-1", b"{ }"), asked, rules=RULES, respond=respond)
        with engine.connect() as connection:
            assert _durability(connection) in ("on", "full")
    assert first == Recorded(200, f'{{"code":"{code}"}}', replayed=False, verdict="success")
    assert again == Recorded(200, f'{{"code":"{code}"}}', replayed=True, verdict="success")
    assert calls[0].verdict is Verdict.SUCCESS and calls[0].bill is not None
    [row] = session.scalars(select(Inquiry)).all()
    assert (row.payment_code, row.agent_id, row.bill_id) == (
        code,
        "ALFAMART",
        calls[0].bill.bill_id,
    )


def test_an_inquiry_is_recorded_with_when_and_from_where_it_came_and_what_the_till_asked(
    app: Flask, session: Session
) -> None:
    """What staff read on the inquiry's page: every column of the record, not only its key."""
    bill = make_bill(session, expires_at=NOW + timedelta(days=1))
    code = _code(bill)
    session.commit()
    received = _received(
        "kept-1", b'{"asked":1}', received_at=datetime(2031, 5, 20, 4, 59, 58, tzinfo=UTC),
        request_timestamp="2031-05-20T04:59:57Z", remote_addr="203.0.113.44",
    )  # fmt: skip
    asked = InquiryAsked(payment_code=code, inquiry_date="20310520115958", agent_id="ALFAMART",
                         agent_store_id="TZ01", agent_trx_id="trx-7")  # fmt: skip
    with app.app_context():
        answer(db.session(), received, asked, rules=RULES,
               respond=lambda _code, _decision: Answered(200, '{"answered":1}'))  # fmt: skip
    [row] = session.scalars(select(Inquiry)).all()
    assert (row.received_at, row.remote_addr) == (received.received_at, "203.0.113.44")
    assert (row.client_id, row.request_id, row.request_timestamp) == (
        "MCH-1", "kept-1", "2031-05-20T04:59:57Z"
    )  # fmt: skip
    assert (row.request_sha256, row.request_body) == (received.request_sha256, '{"asked":1}')
    assert (row.payment_code, row.inquiry_date) == (code, "20310520115958")
    assert (row.agent_id, row.agent_store_id, row.agent_trx_id) == ("ALFAMART", "TZ01", "trx-7")
    assert (row.bill_id, row.verdict, row.reason) == (bill.id, "success", None)
    assert (row.http_status, row.response_body) == (200, '{"answered":1}')


def test_an_invalid_inquiry_is_recorded_with_where_it_came_from_and_why_cut_to_200(
    app: Flask, session: Session
) -> None:
    received = _received(
        "invalid-1", received_at=datetime(2031, 5, 20, 4, 59, 58, tzinfo=UTC),
        remote_addr="203.0.113.45",
    )  # fmt: skip
    why = "paymentCode: Missing data for required field. " + "x" * 300
    with app.app_context():
        recorded = record_invalid(db.session(), received, Answered(400, '{"refused":1}'), why)
    assert recorded == Recorded(400, '{"refused":1}', replayed=False, verdict="invalid_request")
    [row] = session.scalars(select(Inquiry)).all()
    assert row.reason == why[:200]
    assert (row.received_at, row.remote_addr) == (received.received_at, "203.0.113.45")
    assert (row.request_id, row.verdict, row.http_status) == ("invalid-1", "invalid_request", 400)


def test_an_inquiry_made_inside_the_callers_transaction_joins_and_commits_it(
    session: Session, database_kind: str
) -> None:
    """In-process callers (the CLI's simulator, tests) hold a transaction on their session: on
    SQLite it holds the write lock, so the inquiry works and commits in it instead of waiting.
    On PostgreSQL the inquiry always runs on a connection of its own."""
    if database_kind == "postgresql":
        pytest.skip("on PostgreSQL the inquiry runs on psycopg's connection of its own")
    code = _code(make_bill(session, expires_at=NOW + timedelta(days=1)))
    caller = session()  # the Session itself, as the views pass ``db.session()``
    assert caller.in_transaction()  # the bill is not committed yet
    asked = InquiryAsked(payment_code=code, inquiry_date="20310520120000")
    decided: list[Verdict] = []

    def respond(_code: str, decision: Decision) -> Answered:
        decided.append(decision.verdict)
        return Answered(200, '{"joined":1}')

    joined = answer(caller, _received("joined-1"), asked, rules=RULES, respond=respond)
    assert joined == Recorded(200, '{"joined":1}', replayed=False, verdict="success")
    assert decided == [Verdict.SUCCESS]  # the uncommitted bill was seen: the same transaction
    assert not caller.in_transaction()  # committed, bill and inquiry together
    session.rollback()
    assert _rows(session) == 1
    with pytest.raises(RequestIdReused):
        answer(caller, _received("joined-1", b"{ }"), asked, rules=RULES, respond=respond)
    assert not caller.in_transaction()  # rolled back


def test_an_inquiry_through_a_session_bound_to_a_connection_is_recorded_on_its_engine(
    app: Flask, session: Session
) -> None:
    """A session may be bound to a connection rather than an engine (as test harnesses and
    scripts do): the inquiry still opens its own transaction on that connection's engine."""
    code = _code(make_bill(session, expires_at=NOW + timedelta(days=1)))
    session.commit()
    asked = InquiryAsked(payment_code=code, inquiry_date="20310520120000")
    with app.app_context(), db.engine.connect() as connection:
        bound = Session(bind=connection)
        recorded = answer(
            bound, _received("bound-1"), asked, rules=RULES,
            respond=lambda _code, _decision: Answered(200, '{"bound":1}'),
        )  # fmt: skip
        bound.close()
    assert recorded == Recorded(200, '{"bound":1}', replayed=False, verdict="success")
    assert _rows(session) == 1


def test_an_inquiry_is_answered_while_a_payment_holds_its_bill(
    app: Flask, session: Session, database_kind: str
) -> None:
    """A payment (and an import chunk) locks its bill until it commits. The inquiry's log row
    names that bill, and its foreign key takes ``FOR KEY SHARE`` on it: under ``FOR UPDATE``
    the inquiry would wait for the payment's commit; under ``FOR NO KEY UPDATE`` it does not."""
    if database_kind != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's lookup is tested without the write lock")
    from portal.services.traffic.payments import _LOCKED_BILL

    bill = make_bill(session)
    code = _code(bill)
    session.commit()
    asked = InquiryAsked(payment_code=code, inquiry_date="20310520120000")
    answers: list[Recorded] = []

    def respond(_code: str, _decision: Decision) -> Answered:
        return Answered(200, "{}")

    def ask() -> None:
        with app.app_context():
            answers.append(answer(db.session(), _received("held-1"), asked, rules=RULES,
                                  respond=respond))  # fmt: skip

    with app.app_context(), db.engine.connect() as payment:
        payment.execute(_LOCKED_BILL, {"bill_id": bill.id})  # held until the rollback below
        inquiry = threading.Thread(target=ask, daemon=True)
        inquiry.start()
        inquiry.join(timeout=5)
        answered_while_held = not inquiry.is_alive()
        payment.rollback()
    inquiry.join(timeout=10)
    assert answered_while_held, "the inquiry waited for the payment's lock on its bill"
    assert [a.verdict for a in answers] == ["success"]
    assert session.scalars(select(Inquiry.bill_id).where(Inquiry.request_id == "held-1")).all() == [
        bill.id
    ]
