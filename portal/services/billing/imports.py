"""Importing bills from the insurer's core system: the daily file of every open bill.

The core system re-exports all open bills every day and learns of payments at the stores only
later, so its file holds bills paid since its last file, codes that have expired and overdue
bills. Two kinds of rows are therefore told apart:

- **malformed rows** (a field that cannot be read, a missing or unknown column, rows that
  contradict each other or the database's keys) refuse the whole file; the report sums the
  problems up per field (how many, the first line numbers, an offending value);
- **moot rows**, which the bill's current state makes pointless, are not errors: the file is
  applied and the report lists them with the reason (see ``NoteKind``). A paid or cancelled
  bill whose row says something else is a *conflict*, stored on the import run for staff.

The whole file is checked first (``check``); then it is applied in chunks of ``CHUNK_ROWS``
rows, each committed by the caller's ``commit`` (services never commit), so on SQLite an
import holds the write lock for one chunk at a time. Applying is idempotent: a run cut off
half-way is completed by importing the same file again, its rows already applied counting as
unchanged.

Policyholders are keyed by email, policies by number, bills by invoice number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validates
from sqlalchemy import Result, and_, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from portal.models import (
    Bill,
    BillState,
    ImportConflict,
    ImportRun,
    ImportState,
    PaymentCode,
    Policy,
    Policyholder,
    StaffUser,
)
from portal.services.accounts import audit
from portal.services.billing.files import BillFile, UnreadableFile, open_bill_file
from portal.services.billing.import_preview import Outcome, Preview, changed_fields
from portal.services.billing.payability import (
    DEFAULT_POLICY_STATUSES,
    PolicyStatusError,
    normalise_status,
    vocabulary_status,
)
from portal.services.billing.payment_codes import (
    WIB,
    CodeSettings,
    PaymentCodeError,
    check_supplied_code,
    expiry_refusal,
    generate_code,
    is_overdue,
    new_code_expiry,
)
from portal.services.billing.validation import RULES, as_message, problems_of
from portal.services.messages import N_, Message
from portal.services.session import Session
from portal.services.sql import locked_for_writing

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
CHUNK_ROWS = 500
ANALYSE_AFTER_ROWS = 5_000  # PostgreSQL: refresh statistics once this many bills are new
SUMMARY_LINES = 20  # line numbers shown per problem
VALUE_SHOWN = 40  # characters of an offending value shown

Commit = Callable[[], None]
Progress = Callable[[int, int], None]  # (rows applied so far, rows in the file)


def _no_op() -> None:
    return None


# What the report says.


def shown_value(value: object) -> str:
    """An offending value as a report shows it: control characters escaped, cut short."""
    text = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(value)
    )
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # line in the file; the header is line 1
    field: str
    message: Message  # English in str(); the back office translates it
    value: str = ""

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


class NoteKind(StrEnum):
    """Why a row was not applied as written; none of these refuses the file."""

    PAID_UNCHANGED = "paid_unchanged"
    CANCELLED_UNCHANGED = "cancelled_unchanged"
    PAID_CONFLICT = "paid_conflict"
    CANCELLED_CONFLICT = "cancelled_conflict"
    EXPIRY_KEPT = "expiry_kept"
    OVERDUE_NEW = "overdue_new"
    EXPIRED_NEW = "expired_new"
    CHANGED_SINCE_CHECK = "changed_since_check"


NOTE_TEXTS = {
    NoteKind.PAID_UNCHANGED: N_("The bill is paid and the row matches it: unchanged."),
    NoteKind.CANCELLED_UNCHANGED: N_("The bill is cancelled and the row matches it: unchanged."),
    NoteKind.PAID_CONFLICT: N_("The bill is paid but the row differs: not applied (a conflict)."),
    NoteKind.CANCELLED_CONFLICT: N_(
        "The bill is cancelled but the row differs: not applied (a conflict)."
    ),
    NoteKind.EXPIRY_KEPT: N_("expires_at is in the past: the live code keeps its expiry."),
    NoteKind.OVERDUE_NEW: N_(
        "A new bill past its due date: imported, its code valid for the grace days from today."
    ),
    NoteKind.EXPIRED_NEW: N_("A new bill whose expires_at is already past: not created."),
    NoteKind.CHANGED_SINCE_CHECK: N_("The bill or policy changed since the check: not applied."),
}
# A conflict in the preview: the note and what differs (stored -> in the file).
_CONFLICT_DETAIL = {
    NoteKind.PAID_CONFLICT: N_(
        "The bill is paid but the row differs: not applied (a conflict). %(changes)s"
    ),
    NoteKind.CANCELLED_CONFLICT: N_(
        "The bill is cancelled but the row differs: not applied (a conflict). %(changes)s"
    ),
}


def note_message(kind: NoteKind) -> Message:
    return Message(NOTE_TEXTS[kind])


@dataclass(frozen=True, slots=True)
class Note:
    line: int
    kind: NoteKind
    invoice_number: str
    detail: Message | str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"line {self.line}, {self.invoice_number}: {NOTE_TEXTS[self.kind]}{detail}"


@dataclass(slots=True)
class Summary:
    """One kind of problem or note: how many rows, the first lines, the first value."""

    key: str  # the field, or the note kind
    message: Message | str  # plain text: a summary stored before messages were kept whole
    count: int = 0
    lines: list[int] = field(default_factory=list)
    value: str = ""

    def add(self, line: int, value: str) -> None:
        if self.count == 0:
            self.value = shown_value(value)
        self.count += 1
        if len(self.lines) < SUMMARY_LINES:
            self.lines.append(line)

    def __str__(self) -> str:
        lines = ", ".join(str(n) for n in self.lines)
        more = f" and {self.count - len(self.lines)} more" if self.count > len(self.lines) else ""
        value = f' (e.g. "{self.value}")' if self.value else ""
        return f"{self.key}: {self.message}{value}: {self.count} row(s), line {lines}{more}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "message": self.message.as_dict()
            if isinstance(self.message, Message)
            else self.message,
            "count": self.count,
            "lines": self.lines,
            "value": self.value,
        }


def summarise(items: Iterable[tuple[str, Message, int, str]]) -> list[Summary]:
    """(key, message, line, value) grouped by key and message, in order of first appearance."""
    groups: dict[tuple[str, Message], Summary] = {}
    for key, message, line, value in items:
        groups.setdefault((key, message), Summary(key, message)).add(line, value)
    return list(groups.values())


@dataclass(slots=True)
class ImportReport:
    filename: str = ""
    run_id: int | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    conflicts: int = 0
    policyholders_created: int = 0
    policies_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # Each row's fate with rupiah totals, shown before staff confirm (services/import_preview).
    preview: Preview = field(default_factory=Preview)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    applied: bool = False  # False: a check only, nothing written
    # An earlier run of the same file that was cut off and that this run completed.
    completes_run_id: int | None = None
    completes_run_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_summary(self) -> list[Summary]:
        return summarise((e.field, e.message, e.line, e.value) for e in self.errors)

    def note_summary(self) -> list[Summary]:
        return summarise(
            (n.kind.value, note_message(n.kind), n.line, n.invoice_number) for n in self.notes
        )

    def tallies(self) -> dict[str, int]:
        """What the rows came to, by name: for job results and the audit log."""
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "conflicts": self.conflicts,
        }

    def counts(self) -> str:
        return (
            f"{self.rows} rows: created {self.created}, updated {self.updated}, unchanged "
            f"{self.unchanged}, skipped {self.skipped}, conflicts {self.conflicts}; "
            f"{self.policyholders_created} new policyholders, {self.policies_created} new "
            "policies"
        )

    def wib(self, moment: datetime | None) -> str:
        return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S WIB") if moment else "-"


class ImportRejected(Exception):
    """The file has errors; nothing was written. ``report.errors`` lists them."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{len(report.errors)} error(s); nothing imported")
        self.report = report


# Reading one row.


def _text(name: str) -> fields.String:
    return fields.String(required=True, validate=list(RULES[name]))


class BillRowSchema(Schema):
    """One row of the file: each column read into its type and checked with the field's rules
    (``services.billing.validation``), which staff forms share."""

    def __init__(
        self, settings: CodeSettings, policy_statuses: tuple[str, ...] = DEFAULT_POLICY_STATUSES
    ) -> None:
        super().__init__()
        self.code_settings = settings
        self.policy_statuses = tuple(normalise_status(s) for s in policy_statuses)

    policy_number = _text("policy_number")
    policy_type = _text("policy_type")
    policy_account_name = _text("policy_account_name")
    policy_status = _text("policy_status")
    customer_name = _text("customer_name")
    customer_email = _text("customer_email")
    invoice_number = _text("invoice_number")
    amount = fields.String(required=True)
    due_date = fields.Date(
        required=True, format="%Y-%m-%d", error_messages={"invalid": N_("Not a valid date.")}
    )
    payment_code = fields.String(load_default="")
    expires_at = fields.String(load_default="")
    info = fields.String(load_default="", validate=list(RULES["info"]))
    footer_message = fields.String(load_default="", validate=list(RULES["footer_message"]))

    @validates("amount")
    def _amount(self, value: str, **_: Any) -> None:
        if not (value.isascii() and value.isdigit()):
            raise ValidationError(
                [Message(N_("Whole rupiah in digits only, e.g. 150000 (no dots or commas)."))]
            )
        problems = problems_of("amount", int(value))
        if problems:
            raise ValidationError(problems)

    @validates("policy_status")
    def _policy_status(self, value: str, **_: Any) -> None:
        try:
            vocabulary_status(value, self.policy_statuses)
        except PolicyStatusError as exc:
            raise ValidationError([exc.message]) from None

    @validates("payment_code")
    def _payment_code(self, value: str, **_: Any) -> None:
        if value:
            try:
                check_supplied_code(value, self.code_settings)
            except PaymentCodeError as exc:
                raise ValidationError([exc.message]) from None

    @validates("expires_at")
    def _expires_at(self, value: str, **_: Any) -> None:
        if value:
            try:
                parse_expiry(value)
            except ValueError:
                raise ValidationError(
                    [Message(N_("ISO 8601, e.g. 2026-12-31T16:59:59Z (UTC when no offset)."))]
                ) from None

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["customer_email"] = data["customer_email"].lower()
        # " Aktif " and "aktif" are one status: stored as the vocabulary writes it.
        data["policy_status"] = normalise_status(data["policy_status"])
        data["amount"] = int(data["amount"])
        data["expires_at"] = parse_expiry(data["expires_at"]) if data["expires_at"] else None
        data["info"] = data["info"] or None
        data["footer_message"] = data["footer_message"] or None
        return data


def parse_expiry(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


Row = dict[str, Any]


def _column_positions(header: list[str], report: ImportReport) -> list[int] | None:
    names = [h.strip().lower() for h in header]
    if not any(names):
        report.errors.append(RowError(1, "header", Message(N_("The file is empty."))))
        return None
    unknown = [h for h in names if h not in HEADER]
    missing = [h for h in HEADER if h not in names]
    repeated = sorted({h for h in names if h and names.count(h) > 1})
    expected = ",".join(HEADER)
    for problem, values in (
        (Message.of(N_("Unknown column(s); expected: %(columns)s"), columns=expected), unknown),
        (Message.of(N_("Missing column(s); expected: %(columns)s"), columns=expected), missing),
        (Message(N_("Repeated column(s).")), repeated),
    ):
        if values:
            report.errors.append(RowError(1, "header", problem, ", ".join(values)))
    if report.errors:
        return None
    return [names.index(name) for name in HEADER]


def read_rows(
    bill_file: BillFile,
    settings: CodeSettings,
    report: ImportReport,
    policy_statuses: tuple[str, ...] = DEFAULT_POLICY_STATUSES,
) -> Iterator[tuple[int, Row]]:
    """Parse and check each row on its own; errors go to ``report``, good rows are yielded."""
    positions = _column_positions(bill_file.header, report)
    if positions is None:
        return
    width = len(bill_file.header)
    schema = BillRowSchema(settings, policy_statuses)
    count = 0
    for raw_row in bill_file.rows():
        line, values = raw_row.line, raw_row.values
        if not any(v.strip() for v in values):
            continue
        if len(values) != width:
            report.errors.append(
                RowError(
                    line,
                    "row",
                    Message.of(
                        N_("Has %(count)s fields; expected %(width)s."),
                        count=len(values),
                        width=width,
                    ),
                    str(len(values)),
                )
            )
            continue
        count += 1
        if count > MAX_ROWS:
            too_many = Message.of(N_("More than %(max)s rows in one file."), max=MAX_ROWS)
            report.errors.append(RowError(line, "row", too_many))
            return
        raw = {name: values[i].strip() for name, i in zip(HEADER, positions, strict=True)}
        try:
            yield line, schema.load(raw)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"row": exc.messages}
            for name, problems in messages.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    report.errors.append(
                        RowError(line, str(name), as_message(problem), raw.get(str(name), ""))
                    )


class _Consistency:
    """Rows that contradict each other: one key, two different values."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.customers: dict[str, tuple[int, str]] = {}
        self.policies: dict[str, tuple[int, tuple[str, ...]]] = {}
        self.invoices: dict[str, int] = {}
        self.codes: dict[str, int] = {}

    def check(self, line: int, row: Row) -> None:
        errors = self.report.errors
        email = row["customer_email"]
        first = self.customers.setdefault(email, (line, row["customer_name"]))
        if first[1] != row["customer_name"]:
            value = f"{row['customer_name']} (line {first[0]}: {first[1]})"
            message = Message(N_("Another name than an earlier line for this customer_email."))
            errors.append(RowError(line, "customer_name", message, value))
        values = (row["policy_type"], row["policy_account_name"], row["policy_status"], email)
        earlier = self.policies.setdefault(row["policy_number"], (line, values))
        if earlier[1] != values:
            errors.append(
                RowError(
                    line,
                    "policy_number",
                    Message(N_("Other policy details than an earlier line for this policy.")),
                    f"{row['policy_number']} (line {earlier[0]})",
                )
            )
        invoice = row["invoice_number"]
        if invoice in self.invoices:
            errors.append(
                RowError(
                    line,
                    "invoice_number",
                    Message(N_("Repeats an earlier line.")),
                    f"{invoice} (line {self.invoices[invoice]})",
                )
            )
        self.invoices.setdefault(invoice, line)
        code = row["payment_code"]
        if code:
            if code in self.codes:
                errors.append(
                    RowError(
                        line,
                        "payment_code",
                        Message(N_("Repeats an earlier line.")),
                        f"{code} (line {self.codes[code]})",
                    )
                )
            self.codes.setdefault(code, line)


# What the database holds for a chunk's keys.


@dataclass(slots=True)
class _Holder:
    id: int | None
    email: str
    name: str


@dataclass(slots=True)
class _Policy:
    id: int | None
    number: str
    type: str
    account_name: str
    status: str
    holder: _Holder


@dataclass(slots=True)
class _Bill:
    id: int | None
    invoice_number: str
    policy: _Policy
    amount: int
    due_date: date
    state: str
    info: str | None
    footer_message: str | None
    code_id: int | None
    code: str | None
    expires_at: datetime | None


def _snapshot(bill: _Bill) -> dict[str, Any]:
    """What the audit log keeps of a bill and the policy and policyholder its row carries."""
    policy, holder = bill.policy, bill.policy.holder
    return {
        "invoice_number": bill.invoice_number,
        "amount": bill.amount,
        "due_date": bill.due_date,
        "state": bill.state,
        "info": bill.info,
        "footer_message": bill.footer_message,
        "payment_code": bill.code,
        "expires_at": bill.expires_at,
        "policy_number": policy.number,
        "policy_type": policy.type,
        "policy_account_name": policy.account_name,
        "policy_status": policy.status,
        "customer_name": holder.name,
        "customer_email": holder.email,
    }


BILL_FIELDS = ("amount", "due_date", "info", "footer_message")


@dataclass(slots=True)
class _Plan:
    """What applying one chunk writes."""

    new_holders: list[_Holder] = field(default_factory=list)
    changed_holders: dict[int, _Holder] = field(default_factory=dict)
    new_policies: list[_Policy] = field(default_factory=list)
    changed_policies: dict[int, _Policy] = field(default_factory=dict)
    new_bills: list[tuple[_Bill, str | None]] = field(default_factory=list)  # supplied code
    changed_bills: list[tuple[_Bill, dict[str, Any], bool]] = field(default_factory=list)
    conflicts: list[tuple[int, _Bill, str]] = field(default_factory=list)


def _policies_named(
    session: Session, numbers: Iterable[str]
) -> Result[int, str, str, str, str, int, str, str]:
    """The policies with these numbers, with their policyholders' id, email and name."""
    return session.execute(
        select(
            Policy.id,
            Policy.number,
            Policy.type,
            Policy.account_name,
            Policy.status,
            Policyholder.id,
            Policyholder.email,
            Policyholder.name,
        )
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .where(Policy.number.in_(numbers))
    )


class _Importer:
    def __init__(
        self, session: Session, settings: CodeSettings, now: datetime, report: ImportReport
    ) -> None:
        self.session = session
        self.settings = settings
        self.now = now
        self.report = report
        # While checking, what earlier chunks would have created (nothing is written yet).
        self.pending_holders: dict[str, _Holder] = {}
        self.pending_policies: dict[str, _Policy] = {}
        self.checking = True

    # Loading.

    def _load(
        self, rows: list[tuple[int, Row]], *, lock: bool
    ) -> tuple[dict[str, _Holder], dict[str, _Policy], dict[str, _Bill], dict[str, int]]:
        session = self.session
        emails = {r["customer_email"] for _, r in rows}
        numbers = {r["policy_number"] for _, r in rows}
        invoices = [r["invoice_number"] for _, r in rows]
        supplied = [r["payment_code"] for _, r in rows if r["payment_code"]]
        holders = {
            email: _Holder(id_, email, name)
            for id_, email, name in session.execute(
                select(Policyholder.id, Policyholder.email, Policyholder.name).where(
                    Policyholder.email.in_(emails)
                )
            )
        }
        policies: dict[str, _Policy] = {}
        for pid, number, type_, account, status, hid, email, name in _policies_named(
            session, numbers
        ):
            holder = holders.get(email) or _Holder(hid, email, name)
            policies[number] = _Policy(pid, number, type_, account, status, holder)
        bill_query = (
            select(
                Bill.id,
                Bill.invoice_number,
                Bill.amount,
                Bill.due_date,
                Bill.state,
                Bill.info,
                Bill.footer_message,
                Policy.number,
                PaymentCode.id,
                PaymentCode.code,
                PaymentCode.expires_at,
            )
            .join(Policy, Policy.id == Bill.policy_id)
            .outerjoin(
                PaymentCode, and_(PaymentCode.bill_id == Bill.id, PaymentCode.retired_at.is_(None))
            )
            .where(Bill.invoice_number.in_(invoices))
        )
        if lock:  # a payment for one of these bills waits until this chunk is committed
            bill_query = locked_for_writing(bill_query, of=Bill)
        bills: dict[str, _Bill] = {}
        missing_policies: set[str] = set()
        found = session.execute(bill_query).all()
        for *_, number, _cid, _code, _exp in found:
            if number not in policies:
                missing_policies.add(number)
        if missing_policies:  # the bill's own policy, when the row names another one
            for pid, number, type_, account, status, hid, email, name in _policies_named(
                session, missing_policies
            ):
                policies[number] = _Policy(
                    pid, number, type_, account, status, _Holder(hid, email, name)
                )
        for bid, invoice, amount, due, state, info, footer, number, cid, code, exp in found:
            bills[invoice] = _Bill(
                bid, invoice, policies[number], amount, due, state, info, footer, cid, code, exp
            )
        issued: dict[str, int] = {}
        if supplied:
            query = select(PaymentCode.code, PaymentCode.bill_id).where(
                PaymentCode.code.in_(supplied)
            )
            issued = {code: bill_id for code, bill_id in session.execute(query)}
        return holders, policies, bills, issued

    # Deciding.

    def plan(self, rows: list[tuple[int, Row]], *, checking: bool) -> _Plan:
        """Decide each row of a chunk. While checking, problems are errors; while applying
        (the file was checked, so the database changed meanwhile) they skip the row."""
        holders, policies, bills, issued = self._load(rows, lock=not checking)
        if checking:  # what earlier chunks would have written, as if they had
            for _, row in rows:
                email, number = row["customer_email"], row["policy_number"]
                if email in self.pending_holders:
                    holders[email] = self.pending_holders[email]
                if number in self.pending_policies:
                    policies[number] = self.pending_policies[number]
            for known_policy in policies.values():
                known_policy.holder = holders.get(known_policy.holder.email, known_policy.holder)
            for known_bill in bills.values():
                known_bill.policy = policies.get(known_bill.policy.number, known_bill.policy)
        self.checking = checking
        plan = _Plan()
        report = self.report
        for line, row in rows:
            invoice = row["invoice_number"]
            problems: list[RowError] = []
            problem = _collector(problems, line)

            bill = bills.get(invoice)
            if bill is not None and bill.state != BillState.UNPAID:
                self._settled(plan, line, row, bill)
                continue
            policy = policies.get(row["policy_number"])
            if policy is not None and policy.holder.email != row["customer_email"]:
                problem(
                    "customer_email",
                    N_("The policy belongs to another policyholder."),
                    row["policy_number"],
                )
            code = row["payment_code"]
            if bill is not None:
                if bill.policy.number != row["policy_number"]:
                    problem("policy_number", N_("The bill is on another policy."), invoice)
                if code and code != bill.code:
                    problem(
                        "payment_code",
                        N_(
                            "The bill already has another payment code; "
                            "reissue codes from the admin screens."
                        ),
                        code,
                    )
            elif code in issued:
                problem(
                    "payment_code",
                    N_("Payment code was issued before; codes are never reused."),
                    code,
                )
            if problems:
                if checking:
                    report.errors.extend(problems)
                else:
                    report.skipped += 1
                    report.notes.append(
                        Note(line, NoteKind.CHANGED_SINCE_CHECK, invoice, problems[0].message)
                    )
                    report.preview.add(
                        Outcome.SKIP, line, invoice, row["amount"], detail=problems[0].message
                    )
                continue
            if bill is not None:
                self._update(plan, line, row, bill, holders, policies)
            else:
                self._create(plan, line, row, holders, policies, checking=checking)
        return plan

    def _settled(self, plan: _Plan, line: int, row: Row, bill: _Bill) -> None:
        """A paid or cancelled bill: nothing in the row is applied; it matches or conflicts."""
        differences = [
            f"{name} {getattr(bill, name)} -> {row[name]}"
            for name in BILL_FIELDS
            if getattr(bill, name) != row[name]
        ]
        if row["payment_code"] and row["payment_code"] != bill.code:
            differences.append(f"payment_code {bill.code} -> {row['payment_code']}")
        if row["policy_number"] != bill.policy.number:
            differences.append(f"policy_number {bill.policy.number} -> {row['policy_number']}")
        paid = bill.state == BillState.PAID
        if not differences:
            self.report.unchanged += 1
            kind = NoteKind.PAID_UNCHANGED if paid else NoteKind.CANCELLED_UNCHANGED
            self.report.notes.append(Note(line, kind, bill.invoice_number))
            self.report.preview.add(
                Outcome.UNCHANGED,
                line,
                bill.invoice_number,
                row["amount"],
                detail=note_message(kind),
            )
            return
        detail = "; ".join(differences)
        self.report.conflicts += 1
        kind = NoteKind.PAID_CONFLICT if paid else NoteKind.CANCELLED_CONFLICT
        self.report.preview.add(
            Outcome.CONFLICT,
            line,
            bill.invoice_number,
            row["amount"],
            detail=Message.of(_CONFLICT_DETAIL[kind], changes=detail),
        )
        self.report.notes.append(Note(line, kind, bill.invoice_number, detail))
        plan.conflicts.append((line, bill, detail))

    def _holder_and_policy(
        self, plan: _Plan, row: Row, holders: dict[str, _Holder], policies: dict[str, _Policy]
    ) -> _Policy:
        email = row["customer_email"]
        holder = holders.get(email)
        if holder is None:
            holder = _Holder(None, email, row["customer_name"])
            holders[email] = holder
            plan.new_holders.append(holder)
            self.report.policyholders_created += 1
        elif holder.name != row["customer_name"]:
            holder.name = row["customer_name"]
            if holder.id is not None:
                plan.changed_holders[holder.id] = holder
        if self.checking:
            self.pending_holders[email] = holder
        policy = policies.get(row["policy_number"])
        if policy is None:
            policy = _Policy(
                None,
                row["policy_number"],
                row["policy_type"],
                row["policy_account_name"],
                row["policy_status"],
                holder,
            )
            policies[policy.number] = policy
            plan.new_policies.append(policy)
            self.report.policies_created += 1
        else:
            policy.holder = holder
            new = (row["policy_type"], row["policy_account_name"], row["policy_status"])
            if (policy.type, policy.account_name, policy.status) != new:
                policy.type, policy.account_name, policy.status = new
                if policy.id is not None:
                    plan.changed_policies[policy.id] = policy
        if self.checking:
            self.pending_policies[policy.number] = policy
        return policy

    def _update(
        self,
        plan: _Plan,
        line: int,
        row: Row,
        bill: _Bill,
        holders: dict[str, _Holder],
        policies: dict[str, _Policy],
    ) -> None:
        before = _snapshot(bill)
        self._holder_and_policy(plan, row, holders, policies)
        for name in BILL_FIELDS:
            setattr(bill, name, row[name])
        expiry_changed = False
        wanted = row["expires_at"]
        if wanted is not None and bill.code is not None and wanted != bill.expires_at:
            if expiry_refusal(wanted, now=self.now) is not None:
                self.report.notes.append(
                    Note(
                        line,
                        NoteKind.EXPIRY_KEPT,
                        bill.invoice_number,
                        f"{wanted:%Y-%m-%d %H:%M} UTC",
                    )
                )
            else:
                bill.expires_at = wanted
                expiry_changed = True
        after = _snapshot(bill)
        if after == before:
            self.report.unchanged += 1
            self.report.preview.add(Outcome.UNCHANGED, line, bill.invoice_number, bill.amount)
            return
        self.report.updated += 1
        self.report.preview.add(
            Outcome.UPDATE,
            line,
            bill.invoice_number,
            bill.amount,
            previous_amount=before["amount"],
            detail=changed_fields(before, after),
        )
        plan.changed_bills.append((bill, before, expiry_changed))

    def _create(
        self,
        plan: _Plan,
        line: int,
        row: Row,
        holders: dict[str, _Holder],
        policies: dict[str, _Policy],
        *,
        checking: bool,
    ) -> None:
        invoice = row["invoice_number"]
        expires_at = row["expires_at"]
        if expires_at is not None and expiry_refusal(expires_at, now=self.now) is not None:
            self.report.skipped += 1
            self.report.notes.append(
                Note(line, NoteKind.EXPIRED_NEW, invoice, f"{expires_at:%Y-%m-%d %H:%M} UTC")
            )
            self.report.preview.add(
                Outcome.SKIP,
                line,
                invoice,
                row["amount"],
                detail=note_message(NoteKind.EXPIRED_NEW),
            )
            return
        if expires_at is None:
            expires_at = new_code_expiry(row["due_date"], self.settings, now=self.now)
            if is_overdue(row["due_date"], self.settings, now=self.now):
                self.report.notes.append(
                    Note(
                        line,
                        NoteKind.OVERDUE_NEW,
                        invoice,
                        Message.of(N_("due %(date)s"), date=str(row["due_date"])),
                    )
                )
        policy = self._holder_and_policy(plan, row, holders, policies)
        bill = _Bill(
            None,
            invoice,
            policy,
            row["amount"],
            row["due_date"],
            BillState.UNPAID.value,
            row["info"],
            row["footer_message"],
            None,
            row["payment_code"] or None,
            expires_at,
        )
        self.report.created += 1
        self.report.preview.add(Outcome.CREATE, line, invoice, row["amount"])
        plan.new_bills.append((bill, row["payment_code"] or None))

    # Writing.

    def write(self, plan: _Plan, run: ImportRun, actor: StaffUser | str) -> None:
        session, now = self.session, self.now
        if plan.new_holders:
            result = session.execute(
                insert(Policyholder).returning(Policyholder.id, Policyholder.email),
                [{"email": h.email, "name": h.name, "created_at": now} for h in plan.new_holders],
            )
            ids = dict((email, id_) for id_, email in result)
            for holder in plan.new_holders:
                holder.id = ids[holder.email]
        if plan.changed_holders:
            session.execute(
                update(Policyholder),
                [{"id": h.id, "name": h.name} for h in plan.changed_holders.values()],
            )
        if plan.new_policies:
            result = session.execute(
                insert(Policy).returning(Policy.id, Policy.number),
                [
                    {
                        "number": p.number,
                        "type": p.type,
                        "account_name": p.account_name,
                        "status": p.status,
                        "policyholder_id": p.holder.id,
                        "created_at": now,
                    }
                    for p in plan.new_policies
                ],
            )
            ids = dict((number, id_) for id_, number in result)
            for policy in plan.new_policies:
                policy.id = ids[policy.number]
        if plan.changed_policies:
            session.execute(
                update(Policy),
                [
                    {
                        "id": p.id,
                        "type": p.type,
                        "account_name": p.account_name,
                        "status": p.status,
                        "policyholder_id": p.holder.id,
                    }
                    for p in plan.changed_policies.values()
                ],
            )
        if plan.new_bills:
            result = session.execute(
                insert(Bill).returning(Bill.id, Bill.invoice_number),
                [
                    {
                        "invoice_number": b.invoice_number,
                        "policy_id": b.policy.id,
                        "amount": b.amount,
                        "due_date": b.due_date,
                        "state": b.state,
                        "info": b.info,
                        "footer_message": b.footer_message,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for b, _ in plan.new_bills
                ],
            )
            ids = dict((invoice, id_) for id_, invoice in result)
            for bill, _ in plan.new_bills:
                bill.id = ids[bill.invoice_number]
            self._issue_codes(plan.new_bills)
        if plan.changed_bills:
            session.execute(
                update(Bill),
                [
                    {
                        "id": b.id,
                        "amount": b.amount,
                        "due_date": b.due_date,
                        "info": b.info,
                        "footer_message": b.footer_message,
                        "updated_at": now,
                    }
                    for b, _, _ in plan.changed_bills
                ],
            )
            moved = [
                {"id": b.code_id, "expires_at": b.expires_at}
                for b, _, changed in plan.changed_bills
                if changed
            ]
            if moved:
                session.execute(update(PaymentCode), moved)
        if plan.conflicts:
            session.execute(
                insert(ImportConflict),
                [
                    {
                        "run_id": run.id,
                        "line": line,
                        "invoice_number": b.invoice_number,
                        "bill_id": b.id,
                        "bill_state": b.state,
                        "detail": detail,
                        "created_at": now,
                    }
                    for line, b, detail in plan.conflicts
                ],
            )
        changes: list[tuple[_Bill, dict[str, Any] | None]] = [(b, None) for b, _ in plan.new_bills]
        changes += [(b, before) for b, before, _ in plan.changed_bills]
        audit.record_many(
            session,
            actor=actor,
            action="bill.import",
            now=now,
            changes=(audit.Change("bill", b.id, before, _snapshot(b)) for b, before in changes),
        )
        session.flush()

    def _issue_codes(self, new_bills: list[tuple[_Bill, str | None]]) -> None:
        """Payment codes for new bills, in one statement. Generated codes are drawn again if
        taken (checked in the database first; the unique constraint settles any race)."""
        session = self.session
        for _ in range(8):
            for bill, supplied in new_bills:
                if supplied is None:
                    bill.code = generate_code(self.settings)
            drawn = [b.code for b, supplied in new_bills if supplied is None]
            taken = (
                set(session.scalars(select(PaymentCode.code).where(PaymentCode.code.in_(drawn))))
                if drawn
                else set()
            )
            if taken or len(set(drawn)) != len(drawn):
                continue
            try:
                with session.begin_nested():
                    session.execute(
                        insert(PaymentCode),
                        [
                            {
                                "bill_id": b.id,
                                "code": b.code,
                                "expires_at": b.expires_at,
                                "issued_at": self.now,
                            }
                            for b, _ in new_bills
                        ],
                    )
            except IntegrityError:
                if all(supplied is None for _, supplied in new_bills):
                    continue
                raise PaymentCodeError(
                    N_("A supplied payment code was issued meanwhile.")
                ) from None
            return
        raise PaymentCodeError(
            N_("Could not draw unused payment codes; is the code space exhausted?")
        )


def _collector(problems: list[RowError], line: int) -> Callable[[str, str, str], None]:
    def problem(name: str, message: str, value: str) -> None:
        problems.append(RowError(line, name, Message(message), value))

    return problem


def _chunks(rows: Iterator[tuple[int, Row]], size: int) -> Iterator[list[tuple[int, Row]]]:
    chunk: list[tuple[int, Row]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# The steps, for the command line, the admin pages and a background job.


def open_file(data: bytes, filename: str, report: ImportReport) -> BillFile | None:
    try:
        return open_bill_file(data, filename, HEADER)
    except UnreadableFile as exc:
        report.errors.append(RowError(1, "file", exc.message))
        return None


def check(
    session: Session,
    data: bytes,
    *,
    filename: str,
    settings: CodeSettings,
    now: datetime,
    release: Commit = _no_op,
    policy_statuses: tuple[str, ...] = DEFAULT_POLICY_STATUSES,
) -> ImportReport:
    """Read and check the whole file against the database, writing nothing.

    The report has the errors (if any) and what applying it now would do. ``release`` is
    called between chunks to end the read transaction (on SQLite every transaction holds the
    write lock); nothing is pending then, so it may be the session's commit.
    """
    return _check(
        session,
        data,
        filename=filename,
        settings=settings,
        now=now,
        release=release,
        policy_statuses=policy_statuses,
    )[0]


def _check(
    session: Session,
    data: bytes,
    *,
    filename: str,
    settings: CodeSettings,
    now: datetime,
    release: Commit,
    policy_statuses: tuple[str, ...],
) -> tuple[ImportReport, list[tuple[int, Row]]]:
    """The check, and the rows as read: applying uses them instead of reading the file again
    (reading is most of an import's time)."""
    report = ImportReport(filename=filename)
    bill_file = open_file(data, filename, report)
    if bill_file is None:
        return report, []
    importer = _Importer(session, settings, now, report)
    consistency = _Consistency(report)
    good: list[tuple[int, Row]] = []
    rows = read_rows(bill_file, settings, report, policy_statuses)
    for chunk in _chunks(rows, CHUNK_ROWS):
        for line, row in chunk:
            consistency.check(line, row)
        report.rows += len(chunk)
        good.extend(chunk)
        if not report.errors:  # once the file is refused, only reading goes on
            importer.plan(chunk, checking=True)
        release()
    return report, ([] if report.errors else good)


def create_run(
    session: Session,
    data: bytes,
    *,
    filename: str,
    actor: StaffUser | str,
    now: datetime,
    token: str | None = None,
) -> ImportRun:
    """Keep a file to be applied (by this process, a confirmation or a background job)."""
    run = ImportRun(
        token=token,
        staff_id=actor.id if isinstance(actor, StaffUser) else None,
        actor=actor.email if isinstance(actor, StaffUser) else actor,
        filename=filename[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        state=ImportState.CHECKED.value,
        created_at=now,
    )
    session.add(run)
    session.flush()
    return run


def apply_import(
    session: Session,
    run_id: int,
    *,
    now: datetime,
    settings: CodeSettings,
    commit: Commit,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
    policy_statuses: tuple[str, ...] = DEFAULT_POLICY_STATUSES,
) -> ImportReport:
    """Check the run's file once more, then apply it ``CHUNK_ROWS`` rows at a time.

    Every row is applied as of ``now``; ``clock`` (default: always ``now``) only stamps when
    the run finished.

    ``commit`` is called after each chunk and at the end (the caller owns the transaction:
    pass the session's commit; a background job may pass its own). A file with errors is
    marked rejected and nothing is written. Returns the report of what was done.
    """
    run = session.get(ImportRun, run_id)
    if run is None or run.state not in (ImportState.CHECKED, ImportState.APPLYING):
        raise ValueError(f"import run {run_id} is not waiting to be applied")
    data, filename = run.content, run.filename
    staff = session.get(StaffUser, run.staff_id) if run.staff_id is not None else None
    actor: StaffUser | str = staff or run.actor
    report, good_rows = _check(
        session,
        data,
        filename=filename,
        settings=settings,
        now=now,
        release=commit,
        policy_statuses=policy_statuses,
    )
    report.run_id = run_id
    run = session.get_one(ImportRun, run_id)
    if not report.ok:
        run.state = ImportState.REJECTED.value
        run.finished_at = now
        run.summary = json.dumps({"errors": [s.as_dict() for s in report.error_summary()]})
        session.flush()
        commit()
        return report
    rows = report.rows
    earlier = session.scalar(
        select(ImportRun)
        .where(
            ImportRun.sha256 == run.sha256,
            ImportRun.state == ImportState.APPLYING,
            ImportRun.id != run_id,
        )
        .order_by(ImportRun.id.desc())
    )
    report = ImportReport(filename=filename, run_id=run_id, rows=rows, started_at=now, applied=True)
    if earlier is not None:
        report.completes_run_id, report.completes_run_at = earlier.id, earlier.started_at
        run.completes_run_id = earlier.id
    run.state, run.started_at, run.rows = ImportState.APPLYING.value, now, rows
    session.flush()
    commit()
    importer = _Importer(session, settings, now, report)
    done = 0
    analysed_at = 0
    for chunk in _chunks(iter(good_rows), CHUNK_ROWS):
        if report.created >= max(ANALYSE_AFTER_ROWS, 2 * analysed_at):
            _refresh_statistics(session)
            analysed_at = report.created
        plan = importer.plan(chunk, checking=False)
        importer.write(plan, session.get_one(ImportRun, run_id), actor)
        done += len(chunk)
        _save_counts(session.get_one(ImportRun, run_id), report, rows_applied=done)
        session.flush()
        commit()
        if progress is not None:
            progress(done, rows)
    run = session.get_one(ImportRun, run_id)
    report.finished_at = clock() if clock is not None else now
    run.state, run.finished_at = ImportState.DONE.value, report.finished_at
    run.summary = json.dumps({"notes": [s.as_dict() for s in report.note_summary()]})
    if report.completes_run_id is not None:
        session.execute(
            update(ImportRun)
            .where(ImportRun.id == report.completes_run_id)
            .values(state=ImportState.SUPERSEDED.value)
        )
    audit.record(
        session,
        actor=actor,
        action="bills.import",
        entity="import",
        entity_id=run_id,
        before=None,
        after={
            "filename": filename,
            "sha256": run.sha256,
            **report.tallies(),
            "policyholders_created": report.policyholders_created,
            "policies_created": report.policies_created,
            "completes_run_id": report.completes_run_id,
        },
        now=now,
    )
    session.flush()
    commit()
    return report


def _refresh_statistics(session: Session) -> None:
    """On PostgreSQL, let the planner see how much the import has grown the tables.

    The first big import into a young database would otherwise look its chunks up with plans
    made for the small tables (hash joins over sequential scans: 60 ms a lookup at 100,000
    bills instead of 2), making the import quadratic. ANALYZE samples, takes no lock that
    blocks reads or writes, and is run each time the import has doubled what it created.
    """
    if session.connection().dialect.name == "postgresql":
        session.execute(text("ANALYZE policyholders, policies, bills, payment_codes"))


def _save_counts(run: ImportRun, report: ImportReport, *, rows_applied: int) -> None:
    run.rows_applied = rows_applied
    run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
    run.skipped, run.conflicts = report.skipped, report.conflicts
    run.policyholders_created = report.policyholders_created
    run.policies_created = report.policies_created


def import_bills(
    session: Session,
    text: str | bytes,
    *,
    settings: CodeSettings,
    now: datetime,
    actor: StaffUser | str = "cli",
    filename: str = "bills.csv",
    policy_statuses: tuple[str, ...] = DEFAULT_POLICY_STATUSES,
) -> ImportReport:
    """Check and apply a whole file in the caller's one transaction (demo data, tests).
    Raises ``ImportRejected`` when the file has errors."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    run = create_run(session, data, filename=filename, actor=actor, now=now)
    report = apply_import(
        session, run.id, now=now, settings=settings, commit=_no_op, policy_statuses=policy_statuses
    )
    if not report.ok:
        raise ImportRejected(report)
    return report
