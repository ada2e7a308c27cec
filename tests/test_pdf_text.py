"""The tests' PDF reader reads every stream, whatever its last byte."""

from __future__ import annotations

import itertools
import zlib

from tests.pdf_text import content_streams, drawn_strings


def _compressed_ending_in_carriage_return() -> tuple[str, bytes]:
    for n in itertools.count():
        text = f"BT ({n}) Tj ET"
        data = zlib.compress(text.encode())
        if data.endswith(b"\r"):
            return text, data
    raise AssertionError("unreachable")


def test_a_stream_whose_data_ends_in_a_carriage_return_is_still_read() -> None:
    """One slip in many compressed to data ending in "\\r"; the reader dropped that byte and
    saw no text at all (a browser test failed at random)."""
    text, data = _compressed_ending_in_carriage_return()
    document = b"%PDF-1.3\n1 0 obj\n<<>>\nstream\n" + data + b"\nendstream\nendobj\n"
    assert content_streams(document) == [text]
    assert drawn_strings(document) == text.removeprefix("BT (").removesuffix(") Tj ET")
