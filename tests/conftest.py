"""Shared fixtures: the environment is pinned before any Onramp or AWS module is imported; the one
headless Chromium of a session (browser tests and the end-to-end player tests share it: Playwright's sync
API can run only once per process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.env import pin

pin()

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    return os.environ.get("ONRAMP_CHROMIUM") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The system Chromium (CI installs Debian's; ONRAMP_CHROMIUM names another), never a Playwright download."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: install it (Debian: apt-get install chromium) or point "
                    "ONRAMP_CHROMIUM at a Chromium/Chrome binary", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

