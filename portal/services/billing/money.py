"""Rupiah as people read it."""


def format_rupiah(amount: int) -> str:
    """``Rp 150.000``: Indonesian thousands separators, no decimals."""
    return "Rp " + f"{amount:,}".replace(",", ".")
