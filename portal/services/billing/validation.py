"""Field rules for staff forms: the very rules of the bill import, applied to single fields.

Staff edit the same things the import writes (policyholder, policy, bill, receipt text), so the
checks come from one place: ``BillRowSchema`` validates any subset of its fields here, under
the import's field names (``customer_email``, ``amount``, ``footer_message`` ...).
"""

from __future__ import annotations

from portal.services.billing.imports import BillRowSchema
from portal.services.billing.payment_codes import CodeSettings

# Payment codes are never typed by staff (they are generated), so the code rules are unused.
_NO_CODES = CodeSettings(prefix="", length=0, grace_days=0)


class InvalidFields(ValueError):
    """Values that break the rules, as ``{field: [problems]}`` under the import's field names."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items())))
        self.errors = errors


def field_problems(**values: str) -> dict[str, list[str]]:
    """Problems with each given field (string values as in the CSV); empty when all is well."""
    raw = BillRowSchema(_NO_CODES).validate(values, partial=True)
    errors: dict[str, list[str]] = {}
    for name, problems in raw.items():
        items = problems if isinstance(problems, list) else [problems]
        errors[str(name)] = [str(p) for p in items]
    return errors


def check_fields(**values: str) -> None:
    """Raise ``InvalidFields`` unless every given field follows the import's rules."""
    errors = field_problems(**values)
    if errors:
        raise InvalidFields(errors)
