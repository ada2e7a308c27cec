"""gunicorn's access log without the secrets some URLs carry.

Activation and password-reset links hold a one-time token in their path (``/activate/<token>``,
``/reset/<token>``): anyone who reads an access log line with one could take the account over
until the link is used. gunicorn.conf.py sets this logger class; the token becomes
``[redacted]`` in the request line, the path and the referrer of every line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

SECRET_PATH = re.compile(r"(/(?:activate|reset)/)[^/?#\s\"]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return SECRET_PATH.sub(REDACTED, text)


class RedactSecretPaths(logging.Filter):
    """The same for log records (the development server logs every request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(str(record.msg))
        return True


class RedactingLogger(Logger):
    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        values: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(values.get(key), str):
                values[key] = redact(values[key])
        return values
