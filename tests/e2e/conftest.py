"""Browser tests: Playwright driving Debian's Chromium against the app on real gunicorn.

Never downloads a browser: /usr/bin/chromium comes from ``apt-get install chromium``
(scripts/test.sh installs it where it can). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.extensions import limiter
from tests.live import ROOT, gunicorn, job_consumer

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: install it with "
            "'apt-get install -y chromium' (scripts/test.sh does where it can)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live_url(
    _migrated_app: Any, database_url_for_tests: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app under gunicorn (two workers) on the test database, mail to a file outbox, and
    the real job consumer beside it on a queue of their own."""
    queue = f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'jobs.sqlite3'}"
    with (
        gunicorn(database_url_for_tests, workers=2, JOBS_URL=queue) as url,
        job_consumer(database_url_for_tests, JOBS_URL=queue),
    ):
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="id-ID")
    page = context.new_page()
    # Pages must not reach outside the app: any other host is a failure.
    external: list[str] = []
    page.on(
        "request",
        lambda r: (
            external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None
        ),
    )
    yield page
    context.close()
    assert external == [], f"pages requested outside the app: {external}"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Viewports the portal's level is judged at (issue 12): a laptop and a common phone.
LAPTOP = {"width": 1366, "height": 768}
PHONE_TALL = {"width": 390, "height": 844}


def axe_violations(page: Any) -> list[str]:
    """Every axe-core violation on the page as it is now ("rule: target"); [] if none.

    axe-core comes bundled with axe-playwright-python (no download); it is evaluated through
    the DevTools protocol, which the page's CSP does not govern.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    found: list[str] = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            found.append(f"{violation['id']}: {' '.join(map(str, node['target']))}")
    return found


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    """Each browser test starts with no login attempts counted in this process."""
    limiter.reset()


@pytest.fixture
def console_errors(page: Any) -> list[str]:
    """Errors the page logs, such as a blocked inline script or style (CSP)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors
