"""Demo data: one bill for each answer an inquiry can give, created through the import."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.models import Bill, BillState, Policyholder, StaffRole
from portal.services.accounts.credentials import set_password
from portal.services.accounts.staff import create_staff
from portal.services.billing.imports import HEADER, import_bills
from portal.services.billing.payment_codes import CodeSettings
from portal.services.session import Session
from portal.services.traffic.payments import PaymentReport, apply_report


@dataclass(frozen=True, slots=True)
class DemoBill:
    invoice_number: str
    expected: str
    note: str


DEMO_BILLS = (
    DemoBill("DEMO-INV-0001", "success", "unpaid premium, active policy"),
    DemoBill("DEMO-INV-0002", "success", "second policyholder, custom footer"),
    DemoBill("DEMO-INV-0003", "billing_already_paid", "already paid"),
    DemoBill("DEMO-INV-0004", "billing_was_expired", "code expired yesterday"),
    DemoBill("DEMO-INV-0005", "decline", "bill cancelled"),
    DemoBill("DEMO-INV-0006", "decline", "policy lapsed"),
    DemoBill("DEMO-INV-0007", "decline", "amount above the Alfa limit"),
)


def _csv(now: datetime) -> str:
    due = (now + timedelta(days=14)).date().isoformat()
    rows = [
        ("9090901234", "Dana Pendidikan", "Andreas", "aktif", "Budi Santoso",
         "budi@example.com", "DEMO-INV-0001", "150000", due, "", "", "", ""),
        ("9090905678", "Jiwa Berjangka", "Siti Rahayu", "aktif", "Siti Rahayu",
         "siti@example.com", "DEMO-INV-0002", "275000", due, "", "", "Premi Jiwa Berjangka",
         "Terima kasih, Ibu Siti.                 Call Center 1500-123"),
        ("9090901234", "Dana Pendidikan", "Andreas", "aktif", "Budi Santoso",
         "budi@example.com", "DEMO-INV-0003", "150000", due, "", "", "", ""),
        ("9090901234", "Dana Pendidikan", "Andreas", "aktif", "Budi Santoso",
         "budi@example.com", "DEMO-INV-0004", "150000", due, "", "", "", ""),
        ("9090905678", "Jiwa Berjangka", "Siti Rahayu", "aktif", "Siti Rahayu",
         "siti@example.com", "DEMO-INV-0005", "275000", due, "", "", "", ""),
        ("9090909999", "Kesehatan Keluarga", "Agus Wijaya", "lapse", "Agus Wijaya",
         "agus@example.com", "DEMO-INV-0006", "320000", due, "", "", "", ""),
        ("9090905678", "Jiwa Berjangka", "Siti Rahayu", "aktif", "Siti Rahayu",
         "siti@example.com", "DEMO-INV-0007", "7500000", due, "", "", "", ""),
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


# Development only: demo logins, printed by scripts/run.sh. Their passwords are derived from
# the installation's SECRET_KEY, so they are stable for one install and known to nobody else.
DEMO_LOGINS = ("budi@example.com", "siti@example.com")
DEMO_STAFF = (
    ("admin@example.com", "Demo Admin", StaffRole.ADMIN),
    ("viewer@example.com", "Demo Viewer", StaffRole.VIEWER),
)


def demo_password(secret_key: str, email: str) -> str:
    digest = hmac.new(secret_key.encode(), f"demo-login:{email}".encode(), hashlib.sha256)
    return "demo-" + base64.urlsafe_b64encode(digest.digest()[:9]).decode()


def seed(session: Session, *, settings: CodeSettings, now: datetime, secret_key: str) -> bool:
    """Create the demo bills unless they exist. Returns whether anything was created."""
    if session.scalar(select(Bill.id).where(Bill.invoice_number == DEMO_BILLS[0].invoice_number)):
        return False
    import_bills(session, _csv(now), settings=settings, now=now)
    bills = {
        b.invoice_number: b
        for b in session.scalars(select(Bill).where(Bill.invoice_number.like("DEMO-INV-%")))
    }
    paid = bills["DEMO-INV-0003"]
    paid_code = paid.current_code
    assert paid_code is not None
    apply_report(
        session,
        PaymentReport(
            status="SUCCESS",
            paid_at=now - timedelta(hours=2),
            invoice_number=paid.invoice_number,
            amount=paid.amount,
            payment_code=paid_code.code,
            agent_id="ALFAMART",
            agent_store_id="TZ01",
            agent_trx_id="DEMO-0003",
            transaction_date=f"{now - timedelta(hours=2):%Y-%m-%dT%H:%M:%SZ}",
        ),
        now=now,
    )
    code = bills["DEMO-INV-0004"].current_code
    assert code is not None
    code.expires_at = now - timedelta(days=1)
    bills["DEMO-INV-0005"].state = BillState.CANCELLED
    for holder in session.scalars(select(Policyholder).where(Policyholder.email.in_(DEMO_LOGINS))):
        set_password(holder, demo_password(secret_key, holder.email), now=now)
    for email, name, role in DEMO_STAFF:
        password = demo_password(secret_key, email)
        create_staff(session, email=email, name=name, password=password, role=role, now=now,
                     actor="demo seed")  # fmt: skip
    session.flush()
    return True


def demo_codes(session: Session) -> list[tuple[DemoBill, str]]:
    bills = {
        b.invoice_number: b
        for b in session.scalars(select(Bill).where(Bill.invoice_number.like("DEMO-INV-%")))
    }
    result = []
    for demo in DEMO_BILLS:
        bill = bills.get(demo.invoice_number)
        if bill is not None and bill.current_code is not None:
            result.append((demo, bill.current_code.code))
    return result
