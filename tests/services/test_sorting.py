"""The one sorting helper of the staff lists (services/sorting): a whitelist, never a column
named by the URL."""

from __future__ import annotations

from sqlalchemy import column, select

from portal.services.sorting import Sort, SortColumns

COLUMNS = SortColumns(
    columns={"received": column("received_at"), "amount": column("amount")},
    default="received",
    tie=column("id"),
    descending_first=frozenset({"received"}),
    nulls_last=frozenset({"amount"}),
)


def test_an_unknown_or_missing_key_reads_as_the_default_order() -> None:
    assert COLUMNS.read("password; drop table bills", "asc") == Sort("received", True)
    assert COLUMNS.read(None, None) == Sort("received", True)
    assert COLUMNS.read("", "desc") == COLUMNS.default_sort


def test_a_known_key_reads_with_its_direction_or_its_first_direction() -> None:
    assert COLUMNS.read("amount", "desc") == Sort("amount", True)
    assert COLUMNS.read("amount", None) == Sort("amount", False)  # smallest first
    assert COLUMNS.read("received", "asc") == Sort("received", False)
    assert COLUMNS.read("received", "sideways") == Sort("received", True)


def test_clicking_the_sorted_column_flips_it_and_another_starts_its_own_way() -> None:
    assert COLUMNS.flipped(Sort("amount", False), "amount") == Sort("amount", True)
    assert COLUMNS.flipped(Sort("amount", True), "amount") == Sort("amount", False)
    assert COLUMNS.flipped(Sort("amount", False), "received") == Sort("received", True)


def test_the_default_order_needs_no_url_arguments() -> None:
    assert COLUMNS.arguments(Sort("received", True)) == {}
    assert COLUMNS.arguments(Sort("received", False)) == {"sort": "received", "dir": "asc"}
    assert COLUMNS.arguments(Sort("amount", True)) == {"sort": "amount", "dir": "desc"}


def _order_sql(sort: Sort | None) -> str:
    statement = select(column("id")).order_by(*COLUMNS.order_by(sort))
    return str(statement).split("ORDER BY", 1)[1].strip()


def test_every_order_ends_with_the_unique_column_and_empty_amounts_go_last() -> None:
    assert _order_sql(Sort("received", True)) == "received_at DESC, id DESC"
    assert _order_sql(Sort("amount", False)) == "amount IS NULL, amount ASC, id ASC"
    assert _order_sql(None) == _order_sql(Sort("nonsense", False)) == "received_at DESC, id DESC"
