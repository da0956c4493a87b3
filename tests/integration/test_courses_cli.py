"""`onramp courses upload` against the running stack: create, upload, ingest, publish in one command."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from chalicelib.content import starter

pytestmark = pytest.mark.integration


def test_upload_command_creates_ingests_and_publishes(stack: Any, tmp_path: Path) -> None:
    tenant = stack.make_tenant(f"cli-{uuid.uuid4().hex[:8]}")["id"]
    package = tmp_path / "closing.zip"
    package.write_bytes(starter.build("closing-techniques"))
    done = stack.cli("courses", "upload", str(package), "--tenant", tenant, "--title", "Closing", "--publish",
                     "--api", stack.api)
    assert done.returncode == 0, done.stderr
    assert "... ingesting" in done.stderr
    result = json.loads(done.stdout)
    assert result["version"]["status"] == "published" and result["version"]["format"] == "scorm2004"
    seen = stack.call("GET", f"/v1/tenants/{tenant}/courses/{result['courseId']}", token=stack.operator).json()
    assert seen["title"] == "Closing" and seen["latestVersion"] == 1


def test_upload_command_reports_a_rejected_package_in_one_line(stack: Any, tmp_path: Path) -> None:
    tenant = stack.make_tenant(f"cli-{uuid.uuid4().hex[:8]}")["id"]
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip at all")
    done = stack.cli("courses", "upload", str(bogus), "--tenant", tenant, "--api", stack.api)
    assert done.returncode == 1
    assert "rejected: not-a-zip" in done.stderr and "Traceback" not in done.stderr
