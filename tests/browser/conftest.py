"""Browser tests: a headless Chromium driven by Playwright (sync API).

The system Chromium is used (CI installs it; `ONRAMP_CHROMIUM` names another binary), never a Playwright download.
Tests here carry the `browser` marker: deselect them with `-m "not browser"`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLAYER_DIR = REPO / "content_bucket" / "player"
VENDOR_FILES = ("scorm12.min.js", "scorm2004.min.js")


def pytest_configure(config: pytest.Config) -> None:
    # Registered here so --strict-markers accepts it without touching pyproject.toml.
    config.addinivalue_line("markers", "browser: drives a headless Chromium through Playwright")


@pytest.fixture(scope="session")
def player_assets() -> Path:
    """content_bucket/player with vendor/ built (build.sh is a no-op when vendor/ is already up to date)."""
    have_vendor = all((PLAYER_DIR / "vendor" / name).is_file() for name in VENDOR_FILES)
    if shutil.which("npm") is None:
        if have_vendor:
            return PLAYER_DIR
        pytest.skip("npm is not available, so content_bucket/player/build.sh cannot build the scorm-again bundles")
    result = subprocess.run(["bash", str(PLAYER_DIR / "build.sh")], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"content_bucket/player/build.sh failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return PLAYER_DIR
