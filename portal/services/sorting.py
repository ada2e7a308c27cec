"""Sorting a staff list by one of its columns, the same way in every list.

A list names the columns it may be sorted by (:class:`SortColumns`, a whitelist: the URL never
names a database column); :meth:`SortColumns.read` turns ``?sort=&dir=`` into a :class:`Sort`,
:meth:`SortColumns.order_by` into an ORDER BY that ends with a unique column, so pages never
overlap or skip a row, and :meth:`SortColumns.arguments` back into URL arguments for the
column headers, the pager and the downloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement


@dataclass(frozen=True, slots=True)
class Sort:
    key: str
    descending: bool


@dataclass(frozen=True, slots=True)
class SortColumns:
    columns: Mapping[str, Any]  # the argument's value -> the column (or SQL expression)
    default: str
    tie: Any  # a unique column, last in every order
    # Keys that start newest or largest first when a header is first clicked (times).
    descending_first: frozenset[str] = field(default_factory=frozenset)
    # Keys whose empty values go last in either direction (SQLite and PostgreSQL differ).
    nulls_last: frozenset[str] = field(default_factory=frozenset)

    @property
    def default_sort(self) -> Sort:
        return Sort(self.default, self.default in self.descending_first)

    def known(self, key: str) -> bool:
        return key in self.columns

    def read(self, key: str | None, direction: str | None) -> Sort:
        """``?sort=`` and ``?dir=`` as a Sort; a key that is not a column gives the default."""
        key = (key or "").strip()
        if key not in self.columns:
            return self.default_sort
        direction = (direction or "").strip()
        descending = direction != "asc" if direction else key in self.descending_first
        return Sort(key, descending)

    def flipped(self, current: Sort, key: str) -> Sort:
        """The order a click on ``key``'s header asks for: the other way round if the list is
        sorted by it already, else that column's first direction."""
        if key == current.key:
            return Sort(key, not current.descending)
        return Sort(key, key in self.descending_first)

    def arguments(self, sort: Sort) -> dict[str, str]:
        """``sort`` as URL arguments; none for the default order."""
        if sort == self.default_sort:
            return {}
        return {"sort": sort.key, "dir": "desc" if sort.descending else "asc"}

    def order_by(self, sort: Sort | None) -> list[ColumnElement[Any]]:
        """The ORDER BY for ``sort`` (the default for None or an unknown key)."""
        if sort is None or sort.key not in self.columns:
            sort = self.default_sort
        column = self.columns[sort.key]
        order = [column.desc() if sort.descending else column.asc()]
        order.append(self.tie.desc() if sort.descending else self.tie.asc())
        if sort.key in self.nulls_last:
            order.insert(0, column.is_(None))
        return order
