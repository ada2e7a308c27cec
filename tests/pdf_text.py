"""What a PDF built by fpdf2 says: its content streams, inflated (no PDF library needed)."""

from __future__ import annotations

import re
import zlib

# fpdf2 writes "stream\n<data>\nendstream". The data is binary and may itself end in "\r":
# an optional "\r" before "\nendstream" would cut that byte off and the stream would no longer
# inflate (a test then saw no text at all in one PDF out of many).
_STREAM = re.compile(rb"stream\r?\n(.*?)\nendstream", re.S)


def content_streams(document: bytes) -> list[str]:
    """Every content stream of ``document``, inflated; ``AssertionError`` if one is not."""
    assert document.startswith(b"%PDF-"), document[:80]
    streams = []
    for data in _STREAM.findall(document):
        inflate = zlib.decompressobj()
        try:
            streams.append(inflate.decompress(data).decode("latin-1"))
        except zlib.error as exc:  # fpdf2 compresses every stream it writes
            raise AssertionError(f"a stream that does not inflate: {exc}") from exc
    return streams


def drawn_strings(document: bytes) -> str:
    """The strings drawn with ``Tj``, joined by spaces."""
    return " ".join(re.findall(r"\((.*?)\) ?Tj", "\n".join(content_streams(document))))
