"""Browser-test harness: Playwright driving Debian's Chromium against pytest-django's live
server. Screenshots go to test-artifacts/screenshots (git-ignored)."""

from __future__ import annotations

import atexit
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.e2e


def pytest_configure(config):
    # Registered here rather than in pyproject.toml: it only concerns this directory.
    config.addinivalue_line(
        "markers",
        "every_page: visits every page of every role (tests/e2e/test_every_page.py; slow)",
    )


# One Chromium for the whole session, however many modules import the fixture: Playwright's
# sync API cannot run twice in one process, and a module that imports `browser` from here
# gets a fixture definition of its own (tests/archive, tests/privacy, tests/provisioning).
_chromium: dict[str, object] = {}


def _chromium_start():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: install Debian's chromium package (.ci/run does).")
    if "browser" not in _chromium:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        # When this directory is not collected its session hook does not run: stop at exit.
        atexit.register(_chromium_stop)
        _chromium["playwright"] = playwright
        _chromium["browser"] = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
    return _chromium["browser"]


def _chromium_stop() -> None:
    browser = _chromium.pop("browser", None)
    playwright = _chromium.pop("playwright", None)
    if browser is not None:
        browser.close()
    if playwright is not None:
        playwright.stop()


def pytest_sessionfinish(session, exitstatus):
    _chromium_stop()


@pytest.fixture(scope="session")
def browser():
    return _chromium_start()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
