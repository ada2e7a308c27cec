"""Importing bills from the insurer's core system (CSV), all or nothing.

Every row is checked first; one bad row and nothing is written, and the report names every bad
row and field. Policyholders are keyed by email, policies by number, bills by invoice number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import Bill, BillState, PaymentCode, Policy, Policyholder
from portal.models.billing import (
    AMOUNT_MAX,
    EMAIL_MAX,
    INVOICE_NUMBER_MAX,
    NAME_MAX,
    POLICY_NUMBER_MAX,
    POLICY_STATUS_MAX,
    POLICY_TYPE_MAX,
)
from portal.services.payment_codes import (
    CodeSettings,
    PaymentCodeError,
    check_supplied_code,
    default_expiry,
    issue_code,
)
from portal.services.receipt import ReceiptTextError, check_info, layout_footer

HEADER = (
    "policy_number",
    "policy_type",
    "policy_account_name",
    "policy_status",
    "customer_name",
    "customer_email",
    "invoice_number",
    "amount",
    "due_date",
    "payment_code",
    "expires_at",
    "info",
    "footer_message",
)
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # line in the file; the header is line 1
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    bills_created: int = 0
    bills_updated: int = 0
    policyholders_created: int = 0
    policies_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRejected(Exception):
    """The file has errors; nothing was written. ``report.errors`` lists them."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{len(report.errors)} error(s); nothing imported")
        self.report = report


def _no_control(value: str) -> None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValidationError("Must not contain control characters.")


def _text(max_length: int, *, required: bool = True) -> fields.String:
    return fields.String(
        required=required,
        validate=[validate.Length(min=1 if required else 0, max=max_length), _no_control],
    )


class BillRowSchema(Schema):
    def __init__(self, settings: CodeSettings) -> None:
        super().__init__()
        self.code_settings = settings

    policy_number = _text(POLICY_NUMBER_MAX)
    policy_type = _text(POLICY_TYPE_MAX)
    policy_account_name = _text(NAME_MAX)
    policy_status = _text(POLICY_STATUS_MAX)
    customer_name = _text(NAME_MAX)
    customer_email = fields.Email(required=True, validate=validate.Length(max=EMAIL_MAX))
    invoice_number = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=INVOICE_NUMBER_MAX),
            validate.Regexp(r"^[!-~]+$", error="Printable ASCII without spaces only."),
        ],
    )
    amount = fields.String(required=True)
    due_date = fields.Date(required=True, format="%Y-%m-%d")
    payment_code = fields.String(load_default="")
    expires_at = fields.String(load_default="")
    info = fields.String(load_default="")
    footer_message = fields.String(load_default="")

    @validates("amount")
    def _amount(self, value: str, **_: Any) -> None:
        if not (value.isascii() and value.isdigit()):
            raise ValidationError("Whole rupiah in digits only, e.g. 150000 (no dots or commas).")
        if not 0 < int(value) <= AMOUNT_MAX:
            raise ValidationError(f"Must be between 1 and {AMOUNT_MAX}.")

    @validates("payment_code")
    def _payment_code(self, value: str, **_: Any) -> None:
        if value:
            try:
                check_supplied_code(value, self.code_settings)
            except PaymentCodeError as exc:
                raise ValidationError(str(exc)) from None

    @validates("expires_at")
    def _expires_at(self, value: str, **_: Any) -> None:
        if value:
            try:
                parse_expiry(value)
            except ValueError:
                raise ValidationError(
                    "ISO 8601, e.g. 2026-12-31T16:59:59Z (UTC when no offset)."
                ) from None

    @validates("info")
    def _info(self, value: str, **_: Any) -> None:
        try:
            check_info(value)
        except ReceiptTextError as exc:
            raise ValidationError(str(exc)) from None

    @validates("footer_message")
    def _footer(self, value: str, **_: Any) -> None:
        try:
            layout_footer(value)
        except ReceiptTextError as exc:
            raise ValidationError(str(exc)) from None

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["customer_email"] = data["customer_email"].lower()
        data["amount"] = int(data["amount"])
        data["expires_at"] = parse_expiry(data["expires_at"]) if data["expires_at"] else None
        return data


def parse_expiry(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def read_rows(
    text: str, settings: CodeSettings, report: ImportReport
) -> list[tuple[int, dict[str, Any]]]:
    """Parse and check each row on its own; errors go to ``report``."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        report.errors.append(RowError(1, "header", "The file is empty."))
        return []
    if tuple(h.strip() for h in header) != HEADER:
        report.errors.append(RowError(1, "header", "Expected the header: " + ",".join(HEADER)))
        return []
    schema = BillRowSchema(settings)
    rows: list[tuple[int, dict[str, Any]]] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(HEADER):
            report.errors.append(
                RowError(line, "row", f"Has {len(values)} fields; expected {len(HEADER)}.")
            )
            continue
        if len(rows) >= MAX_ROWS:
            report.errors.append(RowError(line, "row", f"More than {MAX_ROWS} rows in one file."))
            break
        raw = {name: value.strip() for name, value in zip(HEADER, values, strict=True)}
        try:
            rows.append((line, schema.load(raw)))
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"row": exc.messages}
            for name, problems in messages.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    report.errors.append(RowError(line, name, str(problem)))
    return rows


def _check_consistency(rows: list[tuple[int, dict[str, Any]]], report: ImportReport) -> None:
    """Rows that contradict each other: one key, two different values."""
    seen: dict[tuple[str, Any], tuple[int, tuple[Any, ...]]] = {}

    def same(kind: str, key: Any, line: int, value: tuple[Any, ...], what: str) -> None:
        earlier = seen.setdefault((kind, key), (line, value))
        if earlier[1] != value:
            report.errors.append(RowError(line, what, f"Differs from line {earlier[0]} for {key}."))

    invoices: dict[str, int] = {}
    codes: dict[str, int] = {}
    for line, row in rows:
        same("customer", row["customer_email"], line, (row["customer_name"],), "customer_name")
        same(
            "policy",
            row["policy_number"],
            line,
            (row["policy_type"], row["policy_account_name"], row["policy_status"],
             row["customer_email"]),
            "policy_number",
        )  # fmt: skip
        if row["invoice_number"] in invoices:
            report.errors.append(
                RowError(line, "invoice_number", f"Repeats line {invoices[row['invoice_number']]}.")
            )
        invoices.setdefault(row["invoice_number"], line)
        if row["payment_code"]:
            if row["payment_code"] in codes:
                report.errors.append(
                    RowError(line, "payment_code", f"Repeats line {codes[row['payment_code']]}.")
                )
            codes.setdefault(row["payment_code"], line)


def _by_key(session: Session, column: Any, keys: Iterable[str], *options: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    key_list = sorted(set(keys))
    for start in range(0, len(key_list), 500):
        chunk = key_list[start : start + 500]
        entity = column.class_
        for obj in session.scalars(select(entity).where(column.in_(chunk)).options(*options)):
            found[getattr(obj, column.key)] = obj
    return found


def import_bills(
    session: Session, text: str, *, settings: CodeSettings, now: datetime
) -> ImportReport:
    """Check every row, then write all of them or none. Raises ``ImportRejected``."""
    report = ImportReport()
    rows = read_rows(text, settings, report)
    _check_consistency(rows, report)
    holders = _by_key(session, Policyholder.email, (r["customer_email"] for _, r in rows))
    policies = _by_key(
        session,
        Policy.number,
        (r["policy_number"] for _, r in rows),
        selectinload(Policy.policyholder),
    )
    bills = _by_key(
        session,
        Bill.invoice_number,
        (r["invoice_number"] for _, r in rows),
        selectinload(Bill.payment_codes),
    )
    issued = _by_key(
        session,
        PaymentCode.code,
        (r["payment_code"] for _, r in rows if r["payment_code"]),
    )
    for line, row in rows:
        _check_against_database(line, row, policies, bills, issued, settings, now, report)
    if not report.ok:
        raise ImportRejected(report)

    for line, row in rows:
        holder = holders.get(row["customer_email"])
        if holder is None:
            holder = Policyholder(email=row["customer_email"], name=row["customer_name"])
            session.add(holder)
            holders[holder.email] = holder
            report.policyholders_created += 1
        holder.name = row["customer_name"]
        policy = policies.get(row["policy_number"])
        if policy is None:
            policy = Policy(number=row["policy_number"], policyholder=holder)
            session.add(policy)
            policies[policy.number] = policy
            report.policies_created += 1
        policy.type = row["policy_type"]
        policy.account_name = row["policy_account_name"]
        policy.status = row["policy_status"]
        expires_at = row["expires_at"] or default_expiry(row["due_date"], settings)
        bill = bills.get(row["invoice_number"])
        if bill is None:
            bill = Bill(invoice_number=row["invoice_number"], policy=policy, state=BillState.UNPAID)
            session.add(bill)
            _apply_bill_fields(bill, row)
            try:
                issue_code(
                    session,
                    bill,
                    expires_at=expires_at,
                    settings=settings,
                    code=row["payment_code"] or None,
                )
            except PaymentCodeError as exc:  # lost a race with another import
                report.errors.append(RowError(line, "payment_code", str(exc)))
                raise ImportRejected(report) from exc
            report.bills_created += 1
        else:
            _apply_bill_fields(bill, row)
            live = bill.current_code
            if live is not None and row["expires_at"]:
                live.expires_at = row["expires_at"]
            report.bills_updated += 1
        report.rows += 1
    session.flush()
    return report


def _apply_bill_fields(bill: Bill, row: dict[str, Any]) -> None:
    bill.amount = row["amount"]
    bill.due_date = row["due_date"]
    bill.info = row["info"] or None
    bill.footer_message = row["footer_message"] or None


def _check_against_database(
    line: int,
    row: dict[str, Any],
    policies: dict[str, Policy],
    bills: dict[str, Bill],
    issued: dict[str, PaymentCode],
    settings: CodeSettings,
    now: datetime,
    report: ImportReport,
) -> None:
    def error(name: str, message: str) -> None:
        report.errors.append(RowError(line, name, message))

    policy = policies.get(row["policy_number"])
    if policy is not None and policy.policyholder.email != row["customer_email"]:
        error("customer_email", f"Policy {policy.number} belongs to another policyholder.")
    bill = bills.get(row["invoice_number"])
    code = row["payment_code"]
    if bill is not None:
        if bill.state != BillState.UNPAID:
            error(
                "invoice_number", f"Bill {bill.invoice_number} is {bill.state}; it cannot change."
            )
        if bill.policy.number != row["policy_number"]:
            error("policy_number", f"Bill {bill.invoice_number} is on another policy.")
        live = bill.current_code
        if code and (live is None or live.code != code):
            error(
                "payment_code",
                "The bill already has another payment code; reissue codes from the admin screens.",
            )
    elif code in issued:
        error("payment_code", f"Payment code {code} was issued before; codes are never reused.")
    if bill is None or row["expires_at"]:
        expires_at = row["expires_at"] or default_expiry(row["due_date"], settings)
        if expires_at <= now:
            what = "expires_at" if row["expires_at"] else "due_date"
            error(
                what,
                f"The payment code would expire in the past ({expires_at:%Y-%m-%d %H:%M} UTC).",
            )
