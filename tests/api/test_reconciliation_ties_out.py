"""A day of mixed DOKU traffic through POST /doku/notification, and the reconciliation report
tying out to the rupiah against the distinct SUCCESS payments DOKU reported."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.doku.messages import notification_body
from portal.doku.signature import format_timestamp
from portal.models import Bill, BillState, PaymentException, StaffRole
from portal.models.payments import Resolution
from portal.services.billing.payment_codes import WIB
from portal.services.reporting.reconciliation import MoneyState, payments_report
from portal.services.traffic import cases
from tests.admin.conftest import make_staff
from tests.factories import live_code, make_bill, notify

DAY = date(2026, 11, 27)
CHAINS = {"ALFAMART": "Alfamart", "ALFAMIDI": "Alfamidi", "LAWSON": "Lawson"}


class Till:
    """Sends what DOKU sends, and remembers every body it sent."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.sent: list[bytes] = []

    def pay(
        self,
        bill: Bill | None,
        paid_at: datetime,
        *,
        amount: int | None = None,
        status: str = "SUCCESS",
        chain: str = "ALFAMART",
        store: str = "TZ01",
        trx: str,
        code: str | None = None,
        invoice: str | None = None,
    ) -> bytes:
        if bill is not None:
            invoice = invoice or bill.invoice_number
            amount = bill.amount if amount is None else amount
            code = code or live_code(bill)
        assert invoice is not None and amount is not None and code is not None
        body = notification_body(
            payment_code=code, invoice_number=invoice, amount=amount, status=status,
            transaction_date=format_timestamp(paid_at), original_request_id=f"orig-{trx}",
            identifiers={"AGENT_ID": chain, "AGENT_STORE_ID": store, "AGENT_TRX_ID": trx},
        )  # fmt: skip
        return self.deliver(body)

    def deliver(self, body: bytes, **sign: str) -> bytes:
        response = notify(self.client, body, **sign)
        assert response.status_code in (200, 404), response.get_data(as_text=True)
        self.sent.append(body)
        return body


def _fingerprint(data: dict) -> tuple[str, ...]:  # type: ignore[type-arg]
    """What makes two deliveries the same payment, read from what DOKU sent."""
    ids = {i["name"]: i["value"] for i in data["online_to_offline_payment"]["identifier"]}
    return (
        data["transaction"]["status"], data["online_to_offline_info"]["payment_code"],
        data["order"]["invoice_number"], str(data["order"]["amount"]),
        data["transaction"]["date"], data["transaction"].get("original_request_id", ""),
        ids.get("AGENT_ID", ""), ids.get("AGENT_STORE_ID", ""), ids.get("AGENT_TRX_ID", ""),
    )  # fmt: skip


def _distinct_success(sent: list[bytes]) -> list[dict]:  # type: ignore[type-arg]
    """The SUCCESS payments DOKU reported paid on DAY (WIB), one per fingerprint."""
    distinct: dict[tuple[str, ...], dict] = {}  # type: ignore[type-arg]
    for body in sent:
        data = json.loads(body)
        paid_at = datetime.fromisoformat(data["transaction"]["date"]).astimezone(WIB)
        if data["transaction"]["status"] == "SUCCESS" and paid_at.date() == DAY:
            distinct.setdefault(_fingerprint(data), data)
    return list(distinct.values())


def test_a_day_of_mixed_traffic_ties_out_to_the_rupiah(
    client: FlaskClient, session: Session
) -> None:
    at = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 WIB
    bills = {
        name: make_bill(session, amount=amount)
        for name, amount in [
            ("plain", 150_000), ("twice", 200_000), ("wrong", 175_000), ("failed", 120_000),
            ("cancelled", 80_000), ("invoice", 110_000), ("night", 60_000), ("tomorrow", 45_000),
        ]
    }  # fmt: skip
    late = make_bill(session, amount=90_000, expires_at=datetime(2026, 11, 26, tzinfo=UTC))
    bills["cancelled"].state = BillState.CANCELLED
    session.commit()
    till = Till(client)

    # A payment, re-delivered with a new Request-Id and the same Request-Id twice.
    body = till.pay(bills["plain"], at, trx="p1")
    till.deliver(body)
    till.deliver(body, request_id="same-request")
    till.deliver(body, request_id="same-request")
    # Paid, then paid again at another store: a second payment.
    till.pay(bills["twice"], at + timedelta(minutes=1), trx="t1", chain="ALFAMIDI", store="M7")
    till.pay(bills["twice"], at + timedelta(hours=2), trx="t2", chain="LAWSON", store="L3")
    # The wrong amount first, then the right one; the wrong one re-delivered afterwards
    # becomes a "second payment" as well, but is one payment of Rp 17.500.
    wrong = till.pay(bills["wrong"], at + timedelta(minutes=2), amount=17_500, trx="w1")
    till.pay(bills["wrong"], at + timedelta(minutes=9), trx="w2")
    till.deliver(wrong)
    # Failed, then paid.
    till.pay(bills["failed"], at + timedelta(minutes=3), status="FAILED", trx="f1")
    till.pay(bills["failed"], at + timedelta(minutes=4), trx="f2", chain="ALFAMIDI", store="M7")
    # An unknown status, a cancelled bill, a wrong invoice, a late payment.
    till.pay(bills["invoice"], at + timedelta(minutes=5), status="PENDING", trx="u1")
    till.pay(bills["cancelled"], at + timedelta(minutes=6), trx="c1")
    till.pay(bills["invoice"], at + timedelta(minutes=7), invoice="INV-ELSEWHERE", trx="i1")
    till.pay(late, at + timedelta(minutes=8), trx="l1")
    till.deliver(till.sent[-1])
    # No bill has these codes: one paid (money held), one failed (no money).
    for status, trx in (("SUCCESS", "x1"), ("FAILED", "x2")):
        till.pay(None, at + timedelta(minutes=10), code="8896999999999999", invoice="INV-?",
                 amount=55_000, status=status, trx=trx)  # fmt: skip
    # 23:30 WIB the night before is the 26th; 00:30 WIB after is the 28th: neither counts.
    till.pay(bills["night"], datetime(2026, 11, 26, 16, 30, tzinfo=UTC), trx="n1")
    till.pay(bills["tomorrow"], datetime(2026, 11, 27, 17, 30, tzinfo=UTC), trx="d1")

    # Staff resolve some: their money stays in the report, with what became of it.
    admin = make_staff(session, StaffRole.ADMIN)
    items = {e.kind: e for e in session.scalars(select(PaymentException))}
    cases.resolve(session, items["cancelled_bill"], actor=admin, note="refunded",
                             outcome=Resolution.REFUNDED, now=at)  # fmt: skip
    cases.resolve(session, items["invoice_mismatch"], actor=admin, note="moved",
                             outcome=Resolution.APPLIED, now=at)  # fmt: skip
    session.commit()

    expected = _distinct_success(till.sent)
    report = payments_report(session, DAY, DAY)
    session.commit()

    assert report.total.amount == sum(d["order"]["amount"] for d in expected)
    assert report.total.count == len(expected) == 10
    assert sum(t.amount for t in report.per_day) == report.total.amount
    assert [t.key for t in report.per_day] == ["2026-11-27"]
    per_chain: dict[str, int] = defaultdict(int)
    for data in expected:
        ids = {i["name"]: i["value"] for i in data["online_to_offline_payment"]["identifier"]}
        per_chain[CHAINS[ids["AGENT_ID"]]] += data["order"]["amount"]
    assert {t.key: t.amount for t in report.per_chain} == per_chain
    assert sum(t.amount for t in report.per_store) == report.total.amount

    by_state = {state: report.total.amount_in(state) for state in MoneyState}
    assert by_state[MoneyState.APPLIED] == 150_000 + 200_000 + 175_000 + 120_000 + 90_000
    assert by_state[MoneyState.OPEN] == 200_000 + 17_500 + 55_000  # second, wrong, unknown
    assert by_state[MoneyState.REFUNDED] == 80_000
    assert by_state[MoneyState.APPLIED_BY_STAFF] == 110_000
    late_line = next(line for line in report.payments if line.late)
    assert late_line.amount == 90_000  # counted once, as a payment, not again as exception
    assert {e.kind for e in report.open_exceptions} >= {
        "second_payment", "amount_mismatch", "late_payment", "failed_payment", "unknown_status",
        "unknown_code",
    }  # fmt: skip
