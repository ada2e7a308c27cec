"""The Alfa Group store chains where a bill is paid, the names behind DOKU's AGENT_ID, and how
to pay at each.

The one mapping from DOKU's agent ids to a chain's name: receipts, emails, PDFs and the
back office's reconciliation all read it here. The one list of each chain's payment steps: the
bill page and the PDF slip both show them from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN_STORE = "(unknown)"


def N_(message: str) -> str:  # the name pybabel extracts by default
    """Marks ``message`` for the portal's catalog (babel.cfg); it is translated where shown."""
    return message


# The steps, in English with %(chain)s, %(code)s, %(name)s, %(amount)s and %(info)s: the
# portal translates them into the reader's language and fills them in
# (policyholder.routes.payment_steps), for the page and the slip alike.
_GO_TO_ANY_STORE = N_("Go to the cashier of any %(chain)s store.")
_GO_TO_A_PARTNER_STORE = N_(
    "Go to the cashier of a %(chain)s store. Its tills take Alfa Group payments through DOKU."
)
_SAY_AND_SHOW = N_(
    "Say: “I want to pay an insurance premium through DOKU”, then read out or show the payment"
    " code %(code)s."
)
_ONE_TILL = N_(
    "Small stores may have one till: if the cashier does not find the payment menu, ask for"
    " “DOKU” under bill payments."
)
_CHECK_THE_SCREEN = N_(
    "Check the name and amount on the cashier's screen: %(name)s, %(amount)s (shown as “%(info)s”)."
)
_PAY_IN_CASH = N_("Pay in cash. The cashier tells you if the store adds a fee.")
_KEEP_THE_RECEIPT = N_(
    "Keep the %(chain)s receipt. Your payment appears on this site as soon as the store"
    " confirms it."
)
_ALFA_STEPS = (_GO_TO_ANY_STORE, _SAY_AND_SHOW, _CHECK_THE_SCREEN, _PAY_IN_CASH, _KEEP_THE_RECEIPT)
# Alfaexpress stores are small: one till, where the menu may need finding.
_SMALL_STORE_STEPS = (_GO_TO_ANY_STORE, _SAY_AND_SHOW, _ONE_TILL, *_ALFA_STEPS[2:])
# Lawson and Dan+Dan are partners: not every passer-by knows they take Alfa payments.
_PARTNER_STEPS = (_GO_TO_A_PARTNER_STORE, *_ALFA_STEPS[1:])


@dataclass(frozen=True, slots=True)
class Chain:
    slug: str  # for URLs and element ids
    name: str  # as the chain writes it
    steps: tuple[str, ...]  # how to pay there, as the cashier flow goes (untranslated)


CHAINS: tuple[Chain, ...] = (
    Chain("alfamart", "Alfamart", _ALFA_STEPS),
    Chain("alfamidi", "Alfamidi", _ALFA_STEPS),
    Chain("alfaexpress", "Alfaexpress", _SMALL_STORE_STEPS),
    Chain("lawson", "Lawson", _PARTNER_STEPS),
    Chain("dandan", "Dan+Dan", _PARTNER_STEPS),
)


def chosen_chain(slug: str | None) -> Chain:
    """The chain a link names (``?chain=alfamidi``), else the first one, Alfamart."""
    return next((chain for chain in CHAINS if chain.slug == slug), CHAINS[0])


# AGENT_ID as DOKU passes it on from the till. DOKU's plugins show the chain's name
# ("ALFAMART"); its guide shows a number ("100001") with no published list, so a number
# stays as it is.
_BY_AGENT = {chain.slug.upper(): chain.name for chain in CHAINS}


def chain_name(agent_id: str | None) -> str:
    """The store chain behind DOKU's AGENT_ID: its name when it names one, else the id."""
    if not agent_id or not agent_id.strip():
        return UNKNOWN_STORE
    return _BY_AGENT.get(re.sub(r"[^A-Z]", "", agent_id.upper()), agent_id.strip())


def known_chain(agent_id: str | None) -> str | None:
    """The chain's name if the agent id names one, else ``None`` (for policyholders' pages)."""
    name = chain_name(agent_id)
    return name if name in _BY_AGENT.values() else None


def short_reference(reference: str | None, keep: int = 8) -> str | None:
    """The till's transaction id cut to its last ``keep`` characters, to read out on the phone
    (``TRX-20260501-0001`` -> ``0501-0001``... the tail is what differs between receipts)."""
    if reference is None or not reference.strip():
        return None
    reference = reference.strip()
    return reference if len(reference) <= keep + 2 else "…" + reference[-keep:]
