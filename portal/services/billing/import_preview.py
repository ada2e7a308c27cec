"""What a bill import will do, row by row, before staff confirm it: the rows it will create,
update, leave unchanged, skip, or hold as conflicts, with their rupiah totals.

The import's check (services/billing/imports) tells the preview each row's fate as it decides
it; the preview keeps every count and total and the first rows of each kind (a file of 100 000
rows stays a small result), and travels as plain data in the check's job result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from portal.services.messages import Message

ROWS_SHOWN = 50  # per outcome
ERRORS_SHOWN = 100


class Outcome(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class PreviewRow:
    line: int
    invoice_number: str
    amount: int  # as in the file
    previous_amount: int | None = None  # an update: the stored amount, when it changes
    # What changes (field names and values: ``amount 150000 -> 175000``), or why the row is
    # skipped or held (a message, translated where it is shown).
    detail: Message | str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "invoice_number": self.invoice_number,
            "amount": self.amount,
            "previous_amount": self.previous_amount,
            "detail": self.detail.as_dict() if isinstance(self.detail, Message) else self.detail,
        }


@dataclass(slots=True)
class Group:
    count: int = 0
    amount: int = 0
    rows: list[PreviewRow] = field(default_factory=list)


@dataclass(slots=True)
class Preview:
    groups: dict[Outcome, Group] = field(default_factory=lambda: {o: Group() for o in Outcome})

    def add(
        self,
        outcome: Outcome,
        line: int,
        invoice_number: str,
        amount: int,
        *,
        previous_amount: int | None = None,
        detail: Message | str = "",
    ) -> None:
        group = self.groups[outcome]
        group.count += 1
        group.amount += amount
        if len(group.rows) < ROWS_SHOWN:
            changed = previous_amount if previous_amount != amount else None
            group.rows.append(PreviewRow(line, invoice_number, amount, changed, detail))

    @property
    def amount(self) -> int:
        """Rupiah owed once the import is applied, of the rows it creates or updates."""
        return self.groups[Outcome.CREATE].amount + self.groups[Outcome.UPDATE].amount

    def as_dict(self) -> dict[str, Any]:
        return {
            outcome.value: {
                "count": group.count,
                "amount": group.amount,
                "rows": [row.as_dict() for row in group.rows],
                "more": group.count - len(group.rows),
            }
            for outcome, group in self.groups.items()
        }


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> str:
    """``amount 150000 -> 175000; due_date ...``: what an update changes."""
    return "; ".join(
        f"{name} {before[name]} -> {after[name]}"
        for name in before
        if name in after and before[name] != after[name]
    )
