"""The receipt footer as the till prints it: 40-character lines, at most 120 characters."""

from __future__ import annotations

import pytest

from portal.services.billing.receipt import ReceiptTextError, check_info, layout_footer


def test_short_footer_is_one_line_padded_to_forty() -> None:
    footer = layout_footer("Call Center 021 555-0525")
    assert footer.lines == ("Call Center 021 555-0525".ljust(40),)
    assert all(len(line) == 40 for line in footer.lines)


def test_long_footer_is_cut_every_forty_characters_where_the_till_cuts_it() -> None:
    text = "Terima kasih telah membayar premi asuransi Anda di Alfamart hari ini."
    footer = layout_footer(text)
    assert footer.lines == (text[:40], text[40:].ljust(40))
    assert footer.split_words_after == (1,)  # "asuransi" is split across lines


def test_text_padded_to_line_ends_keeps_words_whole() -> None:
    text = "Terima kasih, Ibu Siti.".ljust(40) + "Call Center 1500-123"
    footer = layout_footer(text)
    assert footer.lines[1].rstrip() == "Call Center 1500-123"
    assert footer.split_words_after == ()


def test_exactly_120_characters_fill_three_lines() -> None:
    assert len(layout_footer("x" * 120).lines) == 3


def test_more_than_120_characters_is_refused_with_the_count() -> None:
    with pytest.raises(ReceiptTextError, match="121 characters"):
        layout_footer("x" * 121)


@pytest.mark.parametrize(
    "text", ["Terima kasih\nCall Center", "Rp 150.000 ✓", "tab\there", "nul\x00"]
)
def test_characters_the_till_cannot_print_are_refused(text: str) -> None:
    with pytest.raises(ReceiptTextError, match="character"):
        layout_footer(text)


def test_empty_footer_prints_nothing() -> None:
    assert layout_footer("").lines == ()


def test_info_is_at_most_32_printable_characters() -> None:
    assert check_info("Premi Asuransi") == "Premi Asuransi"
    with pytest.raises(ReceiptTextError, match="at most 32"):
        check_info("x" * 33)
    with pytest.raises(ReceiptTextError):
        check_info("Premi\x07")
