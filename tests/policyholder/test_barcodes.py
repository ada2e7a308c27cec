"""The payment code's barcode and QR code, drawn as inline SVG that CSP allows."""

from __future__ import annotations

import re

from portal.services.billing.barcodes import code128_modules, code128_svg, qr_svg

CODE = "8896469706801443"
START_C = "11010011100"  # Code 128 start symbol for digit pairs
STOP = "1100011101011"


def test_code128_uses_digit_pairs_and_ends_with_the_stop_symbol() -> None:
    modules = code128_modules(CODE)
    assert modules.startswith(START_C) and modules.endswith(STOP)
    # start + 8 digit pairs + check symbol, 11 modules each, then the 13-module stop
    assert len(modules) == 11 * (1 + len(CODE) // 2 + 1) + 13


def test_code128_svg_draws_every_bar_with_a_quiet_zone_and_no_style_attribute() -> None:
    svg = code128_svg(CODE, title="Barcode <kode>")
    assert "style=" not in svg
    assert "<title>Barcode &lt;kode&gt;</title>" in svg
    drawn = sum(int(w) for w in re.findall(r"h(\d+)v", svg))
    assert drawn == code128_modules(CODE).count("1")
    assert f'viewBox="0 0 {len(code128_modules(CODE)) + 20} 40"' in svg


def test_qr_svg_is_inline_markup_without_style_attributes() -> None:
    svg = qr_svg(CODE, title="QR")
    assert svg.startswith('<svg role="img" ') and svg.endswith("</svg>")
    assert "style=" not in svg and "<?xml" not in svg
    assert "<title>QR</title>" in svg
