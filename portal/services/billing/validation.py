"""The rules of each field that staff or the bill import write, in one place.

The fields carry the import's column names (``customer_email``, ``amount``,
``footer_message`` ...), so a staff form, a service and the import report a problem under the
same name. Each rule takes the typed value (``amount`` is an ``int``); reading a CSV cell into
that type is the import's business (``services.billing.imports``), reading a form field the
form's. The import's schema validates its columns with these very rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError, validate

from portal.models.billing import (
    AMOUNT_MAX,
    EMAIL_MAX,
    INVOICE_NUMBER_MAX,
    NAME_MAX,
    POLICY_NUMBER_MAX,
    POLICY_STATUS_MAX,
    POLICY_TYPE_MAX,
)
from portal.services.billing.receipt import ReceiptTextError, check_info, layout_footer
from portal.services.billing.text_rules import unsafe_character

Rule = Callable[[Any], object]  # raises marshmallow's ValidationError with the problem


class InvalidFields(ValueError):
    """Values that break the rules, as ``{field: [problems]}`` under the import's field names."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items())))
        self.errors = errors

    def sentence(self) -> str:
        """The problems without the field names, for a page that has no fields to mark."""
        return " ".join(p for ps in self.errors.values() for p in ps)


def no_control(value: str) -> None:
    problem = unsafe_character(value)
    if problem is not None:
        raise ValidationError(problem)


def _receipt_text(check: Callable[[str], object]) -> Rule:
    def rule(value: str) -> None:
        try:
            check(value)
        except ReceiptTextError as exc:
            raise ValidationError(str(exc)) from None

    return rule


def _text(max_length: int) -> tuple[Rule, ...]:
    return (validate.Length(min=1, max=max_length), no_control)


RULES: Mapping[str, tuple[Rule, ...]] = {
    "policy_number": _text(POLICY_NUMBER_MAX),
    "policy_type": _text(POLICY_TYPE_MAX),
    "policy_account_name": _text(NAME_MAX),
    "policy_status": _text(POLICY_STATUS_MAX),  # the vocabulary: PayabilityRules
    "customer_name": _text(NAME_MAX),
    "customer_email": (validate.Email(), validate.Length(max=EMAIL_MAX)),
    "invoice_number": (
        validate.Length(min=1, max=INVOICE_NUMBER_MAX),
        validate.Regexp(r"^[!-~]+$", error="Printable ASCII without spaces only."),
    ),
    "amount": (
        validate.Range(min=1, max=AMOUNT_MAX, error=f"Must be between 1 and {AMOUNT_MAX}."),
    ),
    # Empty: the default text.
    "info": (_receipt_text(check_info),),
    "footer_message": (_receipt_text(layout_footer),),
}


def problems_of(name: str, value: object) -> list[str]:
    """What is wrong with ``value`` as the field ``name``; empty when all is well."""
    problems: list[str] = []
    for rule in RULES[name]:
        try:
            rule(value)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, list) else [exc.messages]
            problems.extend(str(m) for m in messages)
    return problems


def field_problems(**values: object) -> dict[str, list[str]]:
    """Problems with each given field; empty when all is well."""
    errors = {name: problems_of(name, value) for name, value in values.items()}
    return {name: problems for name, problems in errors.items() if problems}


def check_fields(**values: object) -> None:
    """Raise ``InvalidFields`` unless every given field follows its rules."""
    errors = field_problems(**values)
    if errors:
        raise InvalidFields(errors)
