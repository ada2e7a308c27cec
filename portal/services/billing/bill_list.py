"""The bill list staff work with: filters that combine, sorting, totals, and the same rows as
a file.

One :class:`BillQuery` describes what is shown; :func:`bill_page` gives a page of it with the
count and the rupiah total of everything that matches, :func:`bill_table` every matching row
for a CSV or XLSX download (services/reporting/spreadsheets), so a file holds exactly what the
list shows. Query arguments are read by :func:`parse_query`: a value that cannot be read is a
problem to show, never an error page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from portal.models import (
    Bill,
    BillState,
    Payment,
    PaymentCode,
    PaymentException,
    Policy,
    Policyholder,
)
from portal.models.billing import AMOUNT_MAX
from portal.services.billing.chains import chain_name
from portal.services.billing.payability import (
    PayabilityRules,
    Refusal,
    Standing,
    live_code_join,
    refusal_sql,
    standing,
    standing_sql,
)
from portal.services.billing.payment_codes import WIB
from portal.services.paging import PER_PAGE, Page, paginate_rows
from portal.services.reporting.reconciliation import wib_day_bounds
from portal.services.reporting.spreadsheets import Table
from portal.services.session import Session
from portal.services.sorting import Sort, SortColumns

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)

# What the list can be sorted by (the query argument's value -> the column).
SORTS = SortColumns(
    columns={
        "created": Bill.created_at,
        "invoice": Bill.invoice_number,
        "policyholder": Policyholder.name,
        "policy": Policy.number,
        "amount": Bill.amount,
        "due": Bill.due_date,
        "paid": Payment.paid_at,
    },
    default="created",
    tie=Bill.id,
    descending_first=frozenset({"created", "paid"}),
    nulls_last=frozenset({"paid"}),  # unpaid bills go last either way
)
DEFAULT_SORT = SORTS.default


@dataclass(frozen=True, slots=True)
class BillQuery:
    text: str = ""  # name, email, policy number, invoice or payment code (a part of one)
    standing: Standing | None = None
    unpaid: bool = False  # any unpaid bill, whatever the till would do with it
    chain: str = ""  # the chain a bill was paid at, by name (services/billing/chains)
    due_from: date | None = None
    due_to: date | None = None
    paid_from: date | None = None  # WIB days
    paid_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    open_exception: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = True

    def arguments(self) -> dict[str, str]:
        """This query as URL arguments (only the ones set), for links and downloads."""
        args = {
            "q": self.text,
            "state": self.standing.value if self.standing else "unpaid" if self.unpaid else "",
            "chain": self.chain,
            "due_from": self.due_from.isoformat() if self.due_from else "",
            "due_to": self.due_to.isoformat() if self.due_to else "",
            "paid_from": self.paid_from.isoformat() if self.paid_from else "",
            "paid_to": self.paid_to.isoformat() if self.paid_to else "",
            "min": str(self.amount_min) if self.amount_min is not None else "",
            "max": str(self.amount_max) if self.amount_max is not None else "",
            "exceptions": "open" if self.open_exception else "",
        }
        args.update(SORTS.arguments(self.order))
        return {k: v for k, v in args.items() if v}

    @property
    def order(self) -> Sort:
        return Sort(self.sort, self.descending)

    def sorted_by(self, key: str) -> BillQuery:
        """This query sorted by ``key``: ascending first, the other way if it already is."""
        flipped = SORTS.flipped(self.order, key)
        return replace(self, sort=flipped.key, descending=flipped.descending)

    @property
    def filtered(self) -> bool:
        return self != BillQuery(sort=self.sort, descending=self.descending)


@dataclass(frozen=True, slots=True)
class Problem:
    argument: str
    message: str  # English; the view translates the known ones
    value: str


@dataclass(slots=True)
class Parsed:
    query: BillQuery
    problems: list[Problem] = field(default_factory=list)


def _day(args: Mapping[str, str], name: str, problems: list[Problem]) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(name, "not a day written YYYY-MM-DD", raw))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        problems.append(Problem(name, "outside 2000-01-01 to 2099-12-31", raw))
        return None
    return day


_RUPIAH = re.compile(
    r"^(?P<whole>\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+)(?:[.,]0{1,2})?$", re.ASCII
)


def parse_rupiah(raw: str) -> int | None:
    """Whole rupiah as staff type them: ``150000``, ``150.000``, ``Rp 150.000``, ``150,000``,
    ``150.000,00``; None for anything else (``150.5`` is not a guess we make with money)."""
    text = raw.strip()
    if text[:2].lower() == "rp":
        text = text[2:].strip()
    found = _RUPIAH.match(text)
    if found is None:
        return None
    return int(found.group("whole").replace(".", "").replace(",", ""))


def _amount(args: Mapping[str, str], name: str, problems: list[Problem]) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    value = parse_rupiah(raw)
    if value is None or value > AMOUNT_MAX:
        problems.append(Problem(name, "not an amount in whole rupiah", raw))
        return None
    return value


def parse_query(args: Mapping[str, str]) -> Parsed:
    """The list's query from URL arguments; what cannot be read is left out and reported."""
    problems: list[Problem] = []
    chosen = (args.get("state") or "").strip()
    wanted = Standing(chosen) if chosen in {s.value for s in Standing} else None
    if chosen and wanted is None and chosen != BillState.UNPAID.value:
        problems.append(Problem("state", "not a state", chosen))
    wanted_sort = (args.get("sort") or DEFAULT_SORT).strip()
    if not SORTS.known(wanted_sort):
        problems.append(Problem("sort", "not a column to sort by", wanted_sort))
    order = SORTS.read(wanted_sort, args.get("dir"))
    query = BillQuery(
        text=(args.get("q") or "").strip()[:200],
        standing=wanted,
        unpaid=chosen == BillState.UNPAID.value,
        chain=(args.get("chain") or "").strip()[:64],
        due_from=_day(args, "due_from", problems),
        due_to=_day(args, "due_to", problems),
        paid_from=_day(args, "paid_from", problems),
        paid_to=_day(args, "paid_to", problems),
        amount_min=_amount(args, "min", problems),
        amount_max=_amount(args, "max", problems),
        open_exception=args.get("exceptions") == "open",
        sort=order.key,
        descending=order.descending,
    )
    low, high = query.amount_min, query.amount_max
    if low is not None and high is not None and low > high:
        problems.append(
            Problem("max", "the largest amount is below the smallest", args.get("max", ""))
        )
    return Parsed(query, problems)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def agent_ids_by_chain(session: Session) -> dict[str, list[str]]:
    """The AGENT_IDs payments came with, by the chain's name (several spellings, one chain)."""
    found: dict[str, list[str]] = {}
    for agent_id in session.scalars(
        select(Payment.agent_id).where(Payment.agent_id.is_not(None)).distinct()
    ):
        found.setdefault(chain_name(agent_id), []).append(str(agent_id))
    return dict(sorted(found.items()))


def _statement(
    session: Session, query: BillQuery, *, now: datetime, rules: PayabilityRules
) -> Select[Any]:
    refused = refusal_sql(now=now, rules=rules).label("refusal")
    statement: Select[Any] = (
        select(Bill, refused, Payment.paid_at, Payment.agent_id, Payment.agent_store_id)
        .join(Policy, Policy.id == Bill.policy_id)
        .join(Policyholder, Policyholder.id == Policy.policyholder_id)
        .outerjoin(PaymentCode, live_code_join())
        .outerjoin(Payment, Payment.bill_id == Bill.id)
    )
    conditions: list[ColumnElement[bool]] = []
    text = query.text
    if text:
        matches: list[ColumnElement[bool]] = [
            Policyholder.name.icontains(text, autoescape=True),
            Policyholder.email.icontains(text, autoescape=True),
            Policy.number.icontains(text, autoescape=True),
            Bill.invoice_number.icontains(text, autoescape=True),
        ]
        digits = _digits(text)
        if digits:
            # A code typed as on the slip ("8896 1234 ..."): any code, live or retired.
            any_code = aliased(PaymentCode)
            matches.append(
                exists().where(any_code.bill_id == Bill.id, any_code.code.contains(digits))
            )
        conditions.append(or_(*matches))
    if query.standing is not None:
        conditions.append(standing_sql(query.standing, now=now, rules=rules))
    if query.unpaid:
        conditions.append(Bill.state == BillState.UNPAID.value)
    if query.chain:
        ids = agent_ids_by_chain(session).get(query.chain, [])
        conditions.append(Payment.agent_id.in_(ids))
    if query.due_from is not None:
        conditions.append(Bill.due_date >= query.due_from)
    if query.due_to is not None:
        conditions.append(Bill.due_date <= query.due_to)
    if query.paid_from is not None:
        conditions.append(Payment.paid_at >= wib_day_bounds(query.paid_from, query.paid_from)[0])
    if query.paid_to is not None:
        conditions.append(Payment.paid_at < wib_day_bounds(query.paid_to, query.paid_to)[1])
    if query.amount_min is not None:
        conditions.append(Bill.amount >= query.amount_min)
    if query.amount_max is not None:
        conditions.append(Bill.amount <= query.amount_max)
    if query.open_exception:
        conditions.append(
            exists().where(
                PaymentException.bill_id == Bill.id, PaymentException.resolved_at.is_(None)
            )
        )
    if conditions:
        statement = statement.where(*conditions)
    return statement.order_by(*SORTS.order_by(query.order))


@dataclass(frozen=True, slots=True)
class BillLine:
    bill: Bill
    standing: Standing
    payment_code: str | None  # the live one
    paid_at: datetime | None
    chain: str | None  # where it was paid
    store: str | None


@dataclass(frozen=True, slots=True)
class BillListing:
    page: Page[BillLine]
    amount: int  # the rupiah total of every matching bill, not only this page's
    chains: list[str]  # the chains payments came from, for the filter


def _line(row: Sequence[Any]) -> BillLine:
    bill, refused, paid_at, agent_id, store = row
    code = bill.current_code
    return BillLine(
        bill=bill,
        standing=standing(Refusal(refused) if refused is not None else None),
        payment_code=code.code if code is not None else None,
        paid_at=paid_at,
        chain=chain_name(agent_id) if paid_at is not None else None,
        store=store,
    )


def bill_page(
    session: Session,
    query: BillQuery,
    *,
    now: datetime,
    rules: PayabilityRules,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> BillListing:
    statement = _statement(session, query, now=now, rules=rules)
    found = paginate_rows(
        session,
        statement.options(
            selectinload(Bill.payment_codes),
            selectinload(Bill.policy).selectinload(Policy.policyholder),
        ),
        page,
        per_page,
    )
    matching = statement.order_by(None).with_only_columns(Bill.amount).subquery()
    amount = session.scalar(select(func.coalesce(func.sum(matching.c.amount), 0)))
    return BillListing(
        page=Page(
            items=[_line(row) for row in found.items],
            number=found.number,
            per_page=found.per_page,
            total=found.total,
        ),
        amount=int(amount or 0),
        chains=list(agent_ids_by_chain(session)),
    )


EXPORT_HEADER = (
    "invoice_number", "policyholder", "email", "policy_number", "amount", "due_date",
    "payment_code", "state", "paid_at_wib", "chain", "agent_store_id",
)  # fmt: skip
EXPORT_LIMIT = 100_000


def _export_rows(
    session: Session, query: BillQuery, *, now: datetime, rules: PayabilityRules
) -> Iterator[list[str | int | None]]:
    statement = (
        _statement(session, query, now=now, rules=rules)
        .options(
            selectinload(Bill.payment_codes),
            selectinload(Bill.policy).selectinload(Policy.policyholder),
        )
        .limit(EXPORT_LIMIT)
    )
    for row in session.execute(statement.execution_options(yield_per=1000)):
        line = _line(row)
        bill = line.bill
        yield [
            bill.invoice_number,
            bill.policy.policyholder.name,
            bill.policy.policyholder.email,
            bill.policy.number,
            bill.amount,
            bill.due_date.isoformat(),
            line.payment_code,
            line.standing.value,
            line.paid_at.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S") if line.paid_at else None,
            line.chain,
            line.store,
        ]


def bill_table(
    session: Session, query: BillQuery, *, now: datetime, rules: PayabilityRules
) -> Table:
    """Every bill the list shows for ``query`` (up to EXPORT_LIMIT), in the list's order."""
    return Table("Bills", EXPORT_HEADER, list(_export_rows(session, query, now=now, rules=rules)))


def export_filename(query: BillQuery, now: datetime, file_format: str) -> str:
    stamp = now.astimezone(WIB).strftime("%Y%m%d-%H%M")
    return f"bills-{stamp}{'-filtered' if query.filtered else ''}.{file_format}"
