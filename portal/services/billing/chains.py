"""The Alfa Group store chains where a bill is paid, and the names behind DOKU's AGENT_ID.

The one mapping from DOKU's agent ids to a chain's name: receipts, emails, PDFs and the
back office's reconciliation all read it here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN_STORE = "(unknown)"


@dataclass(frozen=True, slots=True)
class Chain:
    slug: str  # for URLs and element ids
    name: str  # as the chain writes it


CHAINS: tuple[Chain, ...] = (
    Chain("alfamart", "Alfamart"),
    Chain("alfamidi", "Alfamidi"),
    Chain("alfaexpress", "Alfaexpress"),
    Chain("lawson", "Lawson"),
    Chain("dandan", "Dan+Dan"),
)

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
