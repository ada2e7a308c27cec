"""The rules of each field that staff or the bill import write, in one place.

The fields carry the import's column names (``customer_email``, ``amount``,
``footer_message`` ...), so a staff form, a service and the import report a problem under the
same name. Each rule takes the typed value (``amount`` is an ``int``); reading a CSV cell into
that type is the import's business (``services.billing.imports``), reading a form field the
form's. The import's schema validates its columns with these very rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from portal.services.messages import N_, Message

Rule = Callable[[Any], object]  # raises marshmallow's ValidationError with [Message, ...]
Problem = Message | str  # a plain str only from elsewhere (marshmallow's own, older callers)


def as_message(problem: object) -> Message:
    """A problem as a message: marshmallow's own English texts become msgids as they are."""
    return problem if isinstance(problem, Message) else Message(str(problem))


class InvalidFields(ValueError):
    """Values that break the rules, as ``{field: [problems]}`` under the import's field names.
    ``str()`` is English; pages translate each problem (``Message``)."""

    def __init__(self, errors: Mapping[str, Sequence[Problem]]) -> None:
        self.errors = {name: [as_message(p) for p in ps] for name, ps in errors.items()}
        super().__init__(
            "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in sorted(self.errors.items()))
        )

    def problems(self) -> list[Message]:
        """The problems without the field names, for a page that has no fields to mark."""
        return [p for ps in self.errors.values() for p in ps]

    def sentence(self) -> str:
        return " ".join(str(p) for p in self.problems())


def no_control(value: str) -> None:
    problem = unsafe_character(value)
    if problem is not None:
        raise ValidationError([problem])


def _receipt_text(check: Callable[[str], object]) -> Rule:
    def rule(value: str) -> None:
        try:
            check(value)
        except ReceiptTextError as exc:
            raise ValidationError([exc.message]) from None

    return rule


def _worded(check: validate.Validator, message: Message) -> Rule:
    """Marshmallow's check with our message (a msgid of the catalog, English as before)."""

    def rule(value: object) -> None:
        try:
            check(value)
        except ValidationError:
            raise ValidationError([message]) from None

    return rule


def _length(max_length: int, min_length: int | None = None) -> Rule:
    if min_length is None:
        message = Message.of(N_("Longer than maximum length %(max)s."), max=max_length)
    else:
        message = Message.of(
            N_("Length must be between %(min)s and %(max)s."), min=min_length, max=max_length
        )
    return _worded(validate.Length(min=min_length, max=max_length), message)


def _text(max_length: int) -> tuple[Rule, ...]:
    return (_length(max_length, 1), no_control)


RULES: Mapping[str, tuple[Rule, ...]] = {
    "policy_number": _text(POLICY_NUMBER_MAX),
    "policy_type": _text(POLICY_TYPE_MAX),
    "policy_account_name": _text(NAME_MAX),
    "policy_status": _text(POLICY_STATUS_MAX),  # the vocabulary: PayabilityRules
    "customer_name": _text(NAME_MAX),
    "customer_email": (
        _worded(validate.Email(), Message(N_("Not a valid email address."))),
        _length(EMAIL_MAX),
    ),
    "invoice_number": (
        _length(INVOICE_NUMBER_MAX, 1),
        _worded(validate.Regexp(r"^[!-~]+$"), Message(N_("Printable ASCII without spaces only."))),
    ),
    "amount": (
        _worded(
            validate.Range(min=1, max=AMOUNT_MAX),
            Message.of(N_("Must be between %(min)s and %(max)s."), min=1, max=AMOUNT_MAX),
        ),
    ),
    # Empty: the default text.
    "info": (_receipt_text(check_info),),
    "footer_message": (_receipt_text(layout_footer),),
}


def problems_of(name: str, value: object) -> list[Message]:
    """What is wrong with ``value`` as the field ``name``; empty when all is well."""
    problems: list[Message] = []
    for rule in RULES[name]:
        try:
            rule(value)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, list) else [exc.messages]
            problems.extend(as_message(m) for m in messages)
    return problems


def field_problems(**values: object) -> dict[str, list[Message]]:
    """Problems with each given field; empty when all is well."""
    errors = {name: problems_of(name, value) for name, value in values.items()}
    return {name: problems for name, problems in errors.items() if problems}


def check_fields(**values: object) -> None:
    """Raise ``InvalidFields`` unless every given field follows its rules."""
    errors = field_problems(**values)
    if errors:
        raise InvalidFields(errors)
