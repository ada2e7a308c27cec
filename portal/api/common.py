"""Helpers both DOKU endpoints share."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge


def read_body(limit: int) -> bytes:
    """The raw request body, or 413 if it is longer than ``limit`` bytes.

    Read from the WSGI input itself, one byte past the limit: a chunked body has no
    Content-Length, and a stream capped at the limit would hand over a truncated body that
    then fails (or, worse, passes) the signature check as if it were the whole message.
    """
    declared = request.content_length
    if declared is not None:
        if declared > limit:
            raise RequestEntityTooLarge()
        return request.get_data(cache=False)  # the stream ends at Content-Length
    if not request.environ.get("wsgi.input_terminated"):
        return b""  # no length and no end marker: WSGI says there is no body to read
    body: bytes = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body
