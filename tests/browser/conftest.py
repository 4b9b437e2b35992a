"""Browser tests: the local stack in a subprocess, and pages in Debian's headless Chromium.

Fixtures any browser test here may use:

- ``local_stack`` (session): the local stack in a subprocess (tests/local_stack.py, shared
  with every test directory).
- ``browser`` (session): Chromium at ``/usr/bin/chromium`` (``FLOWS_CHROMIUM`` overrides),
  driven by Playwright from PyPI. Playwright's own browser downloads are never used. ``make
  test`` installs Debian's ``chromium`` when it is missing; where it still cannot be found or
  launched, every test using it is skipped with the reason.
- ``page`` (function): a new context (its own storage, 1400x1000, 10 s for any wait unless
  told otherwise) and page in that browser.
  Uncaught script errors on the page are collected in ``page_errors`` (a list of strings), for
  a test to assert on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.local_stack import ROOT, LocalStack

__all__ = ["BUILD", "ROOT", "LocalStack"]

BUILD = ROOT / "build"
CHROMIUM = os.environ.get("FLOWS_CHROMIUM", "/usr/bin/chromium")
# What this machine's Chromium needs: no sandbox as root, and no background connections (the
# network is closed; Chromium would wait on them). Playwright adds a fresh user-data dir.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Everything on the local stack answers in well under this; a failing test fails fast.
PAGE_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium, or a skip saying why there is none."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium with apt-get "
            "(as root); FLOWS_CHROMIUM may name another binary"
        )
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
    except Exception as error:
        pytest.skip(f"Chromium at {CHROMIUM} did not launch: {error}")
    yield chromium
    chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught script errors of ``page``, in order."""
    return []


@pytest.fixture
def page(browser: Browser, page_errors: list[str]) -> Iterator[Page]:
    """A page in a context of its own (fresh sessionStorage and cookies)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    opened = context.new_page()
    opened.on("pageerror", lambda error: page_errors.append(str(error)))
    yield opened
    context.close()
