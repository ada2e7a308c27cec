"""The payment code as a Code 128 barcode and a QR code, both as inline SVG.

Drawn on the server so the page needs no script, and with colours as attributes (never
``style=""``): the pages' Content-Security-Policy allows no inline styles, and an SVG written
into the HTML is subject to it.
"""

from __future__ import annotations

import itertools
from html import escape

import barcode
import segno

# Quiet zone of ten modules each side, as Code 128 asks; bars 40 modules high.
_QUIET = 10
_BAR_HEIGHT = 40


def code128_modules(value: str) -> str:
    """The barcode as a string of modules, ``1`` for a bar, ``0`` for a space."""
    modules: str = barcode.get("code128", value).build()[0]
    return modules


def code128_svg(value: str, *, title: str) -> str:
    """An SVG Code 128 barcode of ``value`` that scales to its container's width."""
    modules = code128_modules(value)
    bars: list[str] = []
    x = _QUIET
    for module, run in itertools.groupby(modules):
        width = len(list(run))
        if module == "1":
            bars.append(f"M{x} 0h{width}v{_BAR_HEIGHT}h-{width}z")
        x += width
    total = len(modules) + 2 * _QUIET
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} {_BAR_HEIGHT}" '
        f'class="barcode" role="img" preserveAspectRatio="none" shape-rendering="crispEdges" '
        f'data-modules="{len(modules)}">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{total}" height="{_BAR_HEIGHT}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(bars)}"/>'
        "</svg>"
    )


def qr_svg(value: str, *, title: str) -> str:
    """An SVG QR code of ``value`` (error correction M) that scales to its container."""
    qr = segno.make(value, error="m", micro=False)
    svg: str = qr.svg_inline(
        border=4,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        title=title,
        dark="#000",
        light="#fff",
    )
    # Mark it as an image for screen readers; segno writes the title for its name.
    return svg.replace("<svg ", '<svg role="img" ', 1)
