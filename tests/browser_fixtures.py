"""A real headless Chromium for browser tests (Playwright for Python driving Debian's `chromium`).

Use it from a test module by importing the fixtures (their function names differ from the fixture
names, so pytest finds them and ruff sees no redefinition):

    from browser_fixtures import browser_fixture, page_fixture, sign_in_on_login_page  # noqa: F401

    def test_x(page: Page, sim: Simulator) -> None:
        page.goto(url)
        sign_in_on_login_page(page, ADMIN_USERNAME, ADMIN_PASSWORD)

* `browser` (module scope): one Chromium per test module, launched from `CHROMIUM` (environment
  variable) or `/usr/bin/chromium` or `chromium` on PATH. Tests are **skipped** with a clear reason
  when neither Playwright nor Chromium is installed (`.ci/run` installs both); `playwright install` is
  never needed.
* `page` (function scope): a fresh context (1280x800, no shared cookies or storage) and page. When the
  test fails, a full-page screenshot and the page's HTML are kept in the test's `tmp_path`
  (`failure.png`, `failure.html`) and their paths are printed in the failure report.
* `console_messages(page)`: the browser console lines collected for that page (also saved on failure).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
DEFAULT_TIMEOUT_MS = 15_000


def chromium_executable() -> str | None:
    """Debian's chromium (or `$CHROMIUM`), or None when it is not installed."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    path = chromium_executable()
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium; or set CHROMIUM=/path)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(name="page")
def page_fixture(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: messages.append(f"pageerror: {exc}"))
    page._callexport_console = messages  # noqa: SLF001 - read back by console_messages()
    failed_before = request.session.testsfailed
    try:
        yield page
    finally:
        # the call phase's report is logged before fixture teardown, so a failure is counted by now
        if request.session.testsfailed > failed_before:
            keep_failure_evidence(page, tmp_path, messages)
        context.close()


def keep_failure_evidence(page: Any, directory: Path, messages: list[str]) -> None:
    shot, dump, log = directory / "failure.png", directory / "failure.html", directory / "console.log"
    try:
        page.screenshot(path=str(shot), full_page=True)
        dump.write_text(page.content(), encoding="utf-8")
        log.write_text("\n".join(messages) + "\n", encoding="utf-8")
        print(f"\nbrowser failure evidence: {shot} {dump} {log} (page URL {page.url})")
    except Exception as exc:  # the page may be gone; never hide the test's own failure
        print(f"\ncould not keep a screenshot: {exc}")


def console_messages(page: Any) -> list[str]:
    return list(getattr(page, "_callexport_console", []))


def sign_in_on_login_page(page: Any, username: str, password: str) -> None:
    """Fill the simulator's login page (already open in `page`) and submit it."""
    page.wait_for_selector("#login-form")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#log-in")
