"""Answering "what does payment code X owe?" and keeping a record of every answer.

This is the hot path of the DOKU inquiry: one indexed query to decide, one insert to record,
with no ORM unit-of-work, each committed by itself on connections of the inquiry's own that do
not wait for the disk (``record_engine``): the record says what we answered and is not money.
Payments never share that setting. On PostgreSQL (psycopg) the two statements are prepared, on
the driver's connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, cast
from weakref import WeakKeyDictionary

import psycopg
from sqlalchemy import Connection, Engine, Table, bindparam, create_engine, event, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.models import (
    Bill,
    Inquiry,
    PaymentCode,
    Policy,
    Policyholder,
    ReceiptDefaults,
)
from portal.services.billing.payability import (
    NOT_FOUND_REASON,
    PayabilityRules,
    Refusal,
    reason,
    refusal,
)
from portal.services.billing.receipt import effective_text
from portal.services.sql import insert_unless_exists


class Verdict(StrEnum):
    """What the inquiry decides; DOKU's ``InquiryStatus`` says the same on the wire (the DOKU
    blueprint maps one to the other, member by member). A body that is not a valid inquiry is
    recorded as ``INVALID_REQUEST``."""

    SUCCESS = "success"
    DECLINE = "decline"
    BILLING_ALREADY_PAID = "billing_already_paid"
    BILLING_WAS_EXPIRED = "billing_was_expired"
    BILLING_NOT_FOUND = "billing_not_found"


@dataclass(frozen=True, slots=True)
class InquiryRules:
    payability: PayabilityRules
    default_info: str
    default_footer_message: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InquiryRules:
        return cls(
            payability=PayabilityRules.from_config(config),
            default_info=config["DEFAULT_INFO"],
            default_footer_message=config["DEFAULT_FOOTER_MESSAGE"],
        )


# What the inquiry answers for each reason the till would decline.
_VERDICTS = {
    Refusal.PAID: Verdict.BILLING_ALREADY_PAID,
    Refusal.EXPIRED: Verdict.BILLING_WAS_EXPIRED,
}


@dataclass(frozen=True, slots=True)
class BillSnapshot:
    bill_id: int
    invoice_number: str
    amount: int
    due_date: date
    info: str
    footer_message: str
    customer_name: str
    customer_email: str
    policy_type: str
    policy_number: str
    policy_account_name: str
    policy_status: str


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    bill: BillSnapshot | None = None
    reason: str | None = None
    refusal: Refusal | None = None


# Core tables, not ORM entities: the hot path needs rows, not objects.
_codes, _bills = PaymentCode.__table__, Bill.__table__
_policies, _holders = Policy.__table__, Policyholder.__table__
_defaults = ReceiptDefaults.__table__
_LOOKUP = (
    select(
        _bills.c.id,
        _bills.c.invoice_number,
        _bills.c.amount,
        _bills.c.due_date,
        _bills.c.state,
        _bills.c.info,
        _bills.c.footer_message,
        _codes.c.expires_at,
        _policies.c.number,
        _policies.c.type,
        _policies.c.account_name,
        _policies.c.status,
        _holders.c.name,
        _holders.c.email,
        _defaults.c.info,
        _defaults.c.footer_message,
    )
    .select_from(_codes)
    .join(_bills, _bills.c.id == _codes.c.bill_id)
    .join(_policies, _policies.c.id == _bills.c.policy_id)
    .join(_holders, _holders.c.id == _policies.c.policyholder_id)
    # Staff-edited defaults, if any, ride along in the same query.
    .outerjoin(_defaults, _defaults.c.id == 1)
    .where(_codes.c.code == bindparam("code"), _codes.c.retired_at.is_(None))
)


def decide(
    connection: Connection, payment_code: str, *, now: datetime, rules: InquiryRules
) -> Decision:
    """What to answer for ``payment_code`` at ``now`` (UTC), by the one payability rule."""
    return _decision(connection.execute(_LOOKUP, {"code": payment_code}).first(), now, rules)


def _decision(row: Sequence[Any] | None, now: datetime, rules: InquiryRules) -> Decision:
    """The decision for one row of ``_LOOKUP`` (None: no live bill has the code)."""
    if row is None:
        return Decision(Verdict.BILLING_NOT_FOUND, reason=NOT_FOUND_REASON.text)
    (bill_id, invoice, amount, due, state, info, footer, expires_at, number, policy_type,
     account_name, policy_status, name, email, default_info, default_footer) = row  # fmt: skip
    bill = BillSnapshot(
        bill_id=bill_id,
        invoice_number=invoice,
        amount=amount,
        due_date=due,
        info=effective_text(info, default_info, rules.default_info),
        footer_message=effective_text(footer, default_footer, rules.default_footer_message),
        customer_name=name,
        customer_email=email,
        policy_type=policy_type,
        policy_number=number,
        policy_account_name=account_name,
        policy_status=policy_status,
    )
    refused = refusal(
        state=state, amount=amount, policy_status=policy_status, expires_at=expires_at,
        now=now, rules=rules.payability,
    )  # fmt: skip
    if refused is None:
        return Decision(Verdict.SUCCESS, bill)
    why = reason(
        refused, rules=rules.payability, policy_status=policy_status, amount=amount,
        expires_at=expires_at,
    )  # fmt: skip
    return Decision(_VERDICTS.get(refused, Verdict.DECLINE), bill, why, refused)


class RequestIdReused(Exception):
    """The Request-Id was seen before with a different body."""


@dataclass(frozen=True, slots=True)
class InquiryReceived:
    """What arrived: an authenticated request, before its body is read."""

    received_at: datetime
    client_id: str
    request_id: str
    request_timestamp: str
    request_sha256: str
    request_body: str
    remote_addr: str | None


@dataclass(frozen=True, slots=True)
class InquiryAsked:
    """What a valid inquiry asks about, and the till's identifiers kept with the record."""

    payment_code: str
    inquiry_date: str
    agent_id: str | None = None
    agent_store_id: str | None = None
    agent_trx_id: str | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """The HTTP status and JSON body of an answer (the caller signs it)."""

    http_status: int
    response_body: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """The answer to send: ours, or the one first sent for a repeated Request-Id."""

    http_status: int
    response_body: str
    replayed: bool
    verdict: str


# The verdict recorded for an authenticated request whose body is not a valid inquiry.
INVALID_REQUEST = "invalid_request"


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def answer(
    session: Session,
    received: InquiryReceived,
    asked: InquiryAsked,
    *,
    rules: InquiryRules,
    respond: Callable[[str, Decision], Answered],
) -> Recorded:
    """Decide what ``asked.payment_code`` owes, build the answer with ``respond`` and record
    both; a repeated Request-Id gets its first answer (``RequestIdReused`` if its body differs).

    Committed here, on a connection of ``record_engine`` (autocommit), unless ``session`` is
    already in a transaction: a caller in the same process (tests, the CLI's simulator) may
    hold SQLite's write lock, and the inquiry then joins its transaction and commits it."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        return _answer_on_psycopg(engine, received, asked, rules=rules, respond=respond)

    def work(connection: Connection) -> Recorded:
        decision = decide(connection, asked.payment_code, now=received.received_at, rules=rules)
        answered = respond(asked.payment_code, decision)
        row = _columns(received) | _asked_columns(asked, decision)
        return record(connection, row, answered, decision.verdict.value)

    return _in_transaction(session, work)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _in_transaction(session: Session, work: Callable[[Connection], Recorded]) -> Recorded:
    if session.in_transaction():
        try:
            recorded = work(session.connection())
        except BaseException:
            session.rollback()
            raise
        session.commit()
        return recorded
    with record_engine(_engine(session)).connect() as connection:
        return work(connection)


def _asked_columns(asked: InquiryAsked, decision: Decision) -> dict[str, object]:
    return {
        "payment_code": asked.payment_code,
        "inquiry_date": asked.inquiry_date,
        "agent_id": asked.agent_id,
        "agent_store_id": asked.agent_store_id,
        "agent_trx_id": asked.agent_trx_id,
        "bill_id": decision.bill.bill_id if decision.bill else None,
        "reason": decision.reason,
    }


# --- PostgreSQL + psycopg 3: the two hot statements prepared, on the driver's connection -----
#
# SQLAlchemy costs about 0.1 ms of CPU per statement here (bench/inquiry/analysis.md); the same
# statements, compiled once by SQLAlchemy, run on the psycopg connection as prepared statements
# (``prepare=True``). Everything else keeps to SQLAlchemy. tests/api and tests/services run
# this path whenever TEST_DATABASE_URL is PostgreSQL.

_INQUIRIES = cast(Table, Inquiry.__table__)
_RECORD_COLUMNS = (
    "received_at", "client_id", "request_id", "request_timestamp", "request_sha256",
    "request_body", "remote_addr", "payment_code", "inquiry_date", "agent_id",
    "agent_store_id", "agent_trx_id", "bill_id", "reason", "verdict", "http_status",
    "response_body",
)  # fmt: skip
_FIRST_ANSWER_SQL = (
    "SELECT request_sha256, http_status, response_body, verdict FROM inquiries"
    " WHERE client_id = %(client_id)s AND request_id = %(request_id)s"
)


@dataclass(frozen=True, slots=True)
class _DriverStatements:
    lookup: str
    lookup_params: dict[str, Any]  # constants SQLAlchemy bound (the defaults' row id)
    insert: str


@cache
def _driver_statements() -> _DriverStatements:
    dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]
    lookup = _LOOKUP.compile(dialect=dialect)
    table = _INQUIRIES
    insert = (
        postgresql.insert(table)
        .on_conflict_do_nothing(index_elements=["client_id", "request_id"])
        .returning(table.c.id)
        .compile(dialect=dialect, column_keys=list(_RECORD_COLUMNS))
    )
    params = {k: v for k, v in lookup.params.items() if k != "code"}
    return _DriverStatements(str(lookup), params, str(insert))


def _answer_on_psycopg(
    engine: Engine,
    received: InquiryReceived,
    asked: InquiryAsked,
    *,
    rules: InquiryRules,
    respond: Callable[[str, Decision], Answered],
) -> Recorded:
    """``answer`` as two prepared statements on a connection of ``record_engine(engine)``:
    the lookup, then the insert, each its own autocommit transaction, so the inquiry costs two
    round trips to PostgreSQL (no BEGIN, SET or COMMIT). The lookup is one read and the insert
    is atomic by itself (``ON CONFLICT DO NOTHING``): a transaction around them would add
    nothing."""
    statements = _driver_statements()
    with record_engine(engine).connect() as connection:
        raw = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
        try:
            with raw.cursor() as cursor:
                params = {**statements.lookup_params, "code": asked.payment_code}
                cursor.execute(statements.lookup, params, prepare=True)
                decision = _decision(cursor.fetchone(), received.received_at, rules)
                answered = respond(asked.payment_code, decision)
                verdict = decision.verdict.value
                values = _columns(received) | _asked_columns(asked, decision)
                values |= {
                    "verdict": verdict,
                    "http_status": answered.http_status,
                    "response_body": answered.response_body,
                }
                cursor.execute(statements.insert, values, prepare=True)
                if cursor.fetchone() is not None:
                    return Recorded(answered.http_status, answered.response_body, False, verdict)
                cursor.execute(_FIRST_ANSWER_SQL, values, prepare=True)
                first = cursor.fetchone()
        except psycopg.Error as exc:
            # Raised as SQLAlchemy would: the callers' 503 handling knows its exceptions.
            lost = raw.closed or raw.broken
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                "inquiry", None, exc, psycopg.Error, connection_invalidated=lost
            ) from exc
    assert first is not None
    if first[0] != received.request_sha256:
        raise RequestIdReused(received.request_id)
    return Recorded(first[1], first[2], True, first[3])


# The inquiry's own engine beside the app's, made once per engine (per process).
_RECORD_ENGINES: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def record_engine(engine: Engine) -> Engine:
    """An engine on ``engine``'s database for the inquiry alone: its connections are in
    autocommit (the lookup is one read, the insert is atomic by itself, so neither waits for
    a transaction or, on SQLite, for the write lock before it writes) and commit without
    waiting for the disk, a setting made once when each connection opens, so it costs nothing
    per inquiry:

    - PostgreSQL: ``synchronous_commit=off``;
    - SQLite (WAL): ``synchronous = NORMAL``; a later ``FULL`` commit on the app's engine (a
      payment) syncs the log, and with it every inquiry committed before it.

    Payments and everything else keep ``engine`` and the database's full durability. Disposed
    with ``engine``. An in-memory SQLite database cannot be opened twice: there the inquiry
    uses ``engine`` itself."""
    derived = _RECORD_ENGINES.get(engine)
    if derived is None:
        url = engine.url
        if url.get_backend_name() == "sqlite":
            if url.database in (None, "", ":memory:"):
                return engine
            derived = create_engine(
                url, isolation_level="AUTOCOMMIT", poolclass=engine.pool.__class__
            )
            event.listen(derived, "connect", _relaxed_sqlite)
        else:
            given = url.query.get("options")
            options = " ".join([*([given] if isinstance(given, str) else given or ()),
                                "-c synchronous_commit=off"])  # fmt: skip
            derived = create_engine(
                url.update_query_dict({"options": options}),
                isolation_level="AUTOCOMMIT",
                pool_size=2,  # a sync worker answers one inquiry at a time
                max_overflow=8,
            )
        event.listen(engine, "engine_disposed", lambda _engine: derived.dispose())
        _RECORD_ENGINES[engine] = derived
    return derived


def _relaxed_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def record_invalid(
    session: Session, received: InquiryReceived, answered: Answered, reason: str
) -> Recorded:
    """Record an authenticated request whose body is not a valid inquiry, and its 4xx."""
    row = _columns(received) | {"reason": reason[:200]}
    return _in_transaction(session, lambda c: record(c, row, answered, INVALID_REQUEST))


def _columns(received: InquiryReceived) -> dict[str, object]:
    return {
        "received_at": received.received_at,
        "client_id": received.client_id,
        "request_id": received.request_id,
        "request_timestamp": received.request_timestamp,
        "request_sha256": received.request_sha256,
        "request_body": received.request_body,
        "remote_addr": received.remote_addr,
    }


def record(
    connection: Connection, row: Mapping[str, object], answered: Answered, verdict: str
) -> Recorded:
    """Insert one inquiry row (``row`` holds the other ``Inquiry`` columns) with its answer and
    verdict, unless its Request-Id is already recorded.

    A repeated Request-Id with the same body returns the first answer unchanged (no second
    row); with another body it raises ``RequestIdReused``. Insert-first means the common case
    costs one statement, and two simultaneous copies of one request cannot both be recorded:
    the database decides which one was first.
    """
    values = {
        **row,
        "verdict": verdict,
        "http_status": answered.http_status,
        "response_body": answered.response_body,
    }
    if insert_unless_exists(connection, _INQUIRIES, values, ["client_id", "request_id"]):
        return Recorded(answered.http_status, answered.response_body, False, verdict)
    first = connection.execute(
        select(
            Inquiry.request_sha256, Inquiry.http_status, Inquiry.response_body, Inquiry.verdict
        ).where(
            Inquiry.client_id == values["client_id"], Inquiry.request_id == values["request_id"]
        )
    ).one()
    if first.request_sha256 != values["request_sha256"]:
        raise RequestIdReused(values["request_id"])
    return Recorded(first.http_status, first.response_body, True, first.verdict)
