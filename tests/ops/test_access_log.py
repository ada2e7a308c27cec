"""One-time link tokens never reach a log: gunicorn's access log, the development server's and
the app's own error lines."""

from __future__ import annotations

import contextlib
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from portal.access_log import RedactSecretPaths, redact
from tests.live import gunicorn

TOKEN = "eyJpZCI6MX0.Zq1yXw.c2VjcmV0LXRva2Vu"


@pytest.mark.live
def test_gunicorns_access_log_shows_link_paths_without_their_token(
    database_url_for_tests: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "access.log"
    with gunicorn(database_url_for_tests, workers=1, GUNICORN_ACCESSLOG=str(log_file)) as url:
        for path in (f"/reset/{TOKEN}", f"/activate/{TOKEN}?lang=en", "/login"):
            request = urllib.request.Request(
                url + path, headers={"Referer": f"{url}/activate/{TOKEN}"}
            )
            # An invalid link answers 400; what matters is the log line.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=10).close()
    text = log_file.read_text()
    assert TOKEN not in text
    assert "/reset/[redacted]" in text and "/activate/[redacted]?lang=en" in text
    assert '"GET /login HTTP/1.1" 200' in text  # other lines are logged as before


def test_the_development_servers_request_lines_are_redacted_too() -> None:
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '%s - - "%s" %s',
        ("127.0.0.1", f"GET /reset/{TOKEN} HTTP/1.1", "200"), None,
    )  # fmt: skip
    assert RedactSecretPaths().filter(record)
    assert TOKEN not in record.getMessage() and "/reset/[redacted]" in record.getMessage()
    assert redact("/bills/12") == "/bills/12"


def test_an_unexpected_error_on_a_link_page_is_logged_without_its_token(
    make_app: Any, app: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask logs every unhandled error as "Exception on <path>": the path of a link page."""
    import portal.policyholder.routes as routes

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the link could not be read")

    monkeypatch.setattr(routes, "account_from_link", broken)
    served = make_app(PROPAGATE_EXCEPTIONS=False)  # as in production: a 500 page and a log line
    with caplog.at_level(logging.ERROR, logger="portal"):
        for path in (f"/reset/{TOKEN}", f"/activate/{TOKEN}"):
            assert served.test_client().get(path).status_code == 500
    logged = [record.getMessage() for record in caplog.records]
    assert "Exception on /reset/[redacted] [GET]" in logged
    assert "Exception on /activate/[redacted] [GET]" in logged
    assert TOKEN not in caplog.text
