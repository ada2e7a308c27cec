"""Who policyholders contact when the store cannot take a bill: the insurer, from configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class InsurerContact:
    name: str
    phone: str
    email: str


def insurer_contact(config: Mapping[str, Any]) -> InsurerContact:
    return InsurerContact(
        name=config["INSURER_NAME"], phone=config["INSURER_PHONE"], email=config["INSURER_EMAIL"]
    )
