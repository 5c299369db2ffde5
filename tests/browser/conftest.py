"""Browser tests: the real app served over HTTP, driven by Debian's Chromium through Playwright.

* The live server is the real application (``create_app``) served by werkzeug in a
  thread, on a free port (port 0), so ``pytest -n 2`` workers never clash. It uses
  the session's test database from the Distretto pytest plugin (SQLite file, or
  PostgreSQL when ``DISTRETTO_TEST_DATABASE_URL`` is set, connecting as the
  unprivileged app role, with RLS in force).
* Data is seeded through the services in the test (the plugin's ``app`` fixture);
  the plugin empties the tables after every test.
* One Chromium per session; a fresh browser context (cookies, downloads) per test.
* No Chromium at ``/usr/bin/chromium``: the tests skip with the reason, except when
  ``CI`` is set, where they fail (CI installs Chromium with apt-get).
* ``DISTRETTO_SCREENSHOTS=1`` makes ``shoot(page, name)`` write docs/screenshots/<name>.png
  (used by docs/user-guide.md); otherwise screenshots are not written.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import CHROMIUM, DESKTOP


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def live_server(distretto_database: Any) -> Iterator[str]:
    """The real app on http://127.0.0.1:<free port>, for the whole session."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Every asset of every page would flood the test output."""

    from distretto.platform.app import create_app

    application = create_app(distretto_database.config())
    server = make_server("127.0.0.1", 0, application, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with application.app_context():
            from distretto.platform.db import db

            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session (Debian's; Playwright cannot download its own)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python playwright is not installed (pip install -e '.[test]')")
    manager = sync_playwright().start()
    browser = manager.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    )
    try:
        yield browser
    finally:
        browser.close()
        manager.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest, chromium: Any, live_server: str
) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=None)`` -> a page in its own context (own cookies), English UI."""
    contexts: list[Any] = []

    def factory(viewport: dict[str, int] | None = None) -> Any:
        context = chromium.new_context(
            base_url=live_server,
            viewport=viewport or DESKTOP,
            locale="en-GB",
            accept_downloads=True,
        )
        context.set_default_timeout(8_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    if request.node.stash.get(_FAILED, False):
        # what the browser showed when the test failed, to read in the report
        failures = Path(tempfile.gettempdir()) / "distretto-browser-failures"
        failures.mkdir(exist_ok=True)
        for n, open_page in enumerate(p for c in contexts for p in c.pages):
            shot = failures / f"{request.node.name}-{n}.png"
            open_page.screenshot(path=str(shot), full_page=True)
            text = open_page.locator("body").inner_text(timeout=2000)[:3000]
            print(f"--- {open_page.url} (screenshot: {shot})\n{text}")  # noqa: T201
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()
