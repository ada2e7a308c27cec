"""The insurer as policyholders meet it: name, logo, how to reach it and the licence line.

Everything comes from configuration (demo values by default), so the header and footer, the
slip, the PDFs, every email and every "please contact us" show the same contacts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class InsurerContact:
    name: str
    phone: str
    email: str
    whatsapp: str = ""
    # A path under portal/static/ (the pages serve it themselves: CSP allows no other host).
    logo: str = ""
    licence: str = ""

    @property
    def phone_link(self) -> str:
        """``tel:`` link: digits and a leading ``+`` only (``1500-123`` -> ``tel:1500123``)."""
        return "tel:" + _dialable(self.phone)

    @property
    def whatsapp_link(self) -> str:
        """wa.me wants the number in international form without ``+`` (08.. becomes 628..)."""
        digits = _dialable(self.whatsapp).lstrip("+")
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        return f"https://wa.me/{digits}" if digits else ""

    @property
    def email_link(self) -> str:
        return f"mailto:{self.email}"


def _dialable(number: str) -> str:
    number = number.strip()
    return ("+" if number.startswith("+") else "") + re.sub(r"\D", "", number)


def insurer_contact(config: Mapping[str, Any]) -> InsurerContact:
    return InsurerContact(
        name=config["INSURER_NAME"],
        phone=config["INSURER_PHONE"],
        email=config["INSURER_EMAIL"],
        whatsapp=config.get("INSURER_WHATSAPP") or "",
        logo=config.get("INSURER_LOGO") or "",
        licence=config.get("INSURER_LICENCE") or "",
    )
