"""Listing rows a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from portal.services.session import Session

T = TypeVar("T")
PER_PAGE = 25
MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # 1-based
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(
    session: Session, statement: Select[Any], number: int, per_page: int = PER_PAGE
) -> Page[Any]:
    """One page of ``statement`` (which selects one entity, ordered) and the total count."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = int(
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
    # Past the last page (a stale link, or ?page=9223372036854775807): the last page.
    number = max(1, min(number, -(-total // per_page)))
    items = session.scalars(statement.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=items, number=number, per_page=per_page, total=total)


def paginate_rows(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    number: int,
    per_page: int = PER_PAGE,
    *,
    total: int | None = None,
) -> Page[Any]:
    """Like :func:`paginate`, for a statement selecting several columns: the items are rows.
    ``total``: the count if the caller has it already (counted with a sum, say)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    if total is None:
        total = int(
            session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
            or 0
        )
    number = max(1, min(number, -(-total // per_page)))
    rows = session.execute(statement.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=rows, number=number, per_page=per_page, total=total)
