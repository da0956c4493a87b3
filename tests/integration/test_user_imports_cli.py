"""`onramp users import` against the running stack: upload, chunks through the event pump, counts, report."""

from __future__ import annotations

import csv
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_import_command_creates_users_reports_bad_rows_and_reruns_unchanged(stack: Any, tmp_path: Path) -> None:
    tenant = stack.make_tenant(f"imp-{uuid.uuid4().hex[:8]}")["id"]
    rows = [f"person{i}@example.com,Person {i},learner,EMEA,lead@example.com\n" for i in range(500)]
    rows.insert(10, "not-an-email,Broken,learner,EMEA,\n")
    rows.insert(20, "odd@example.com,Odd,wizard,EMEA,\n")
    data = "Email,Display Name,Roles,Region,Manager Email\nlead@example.com,Lead,manager,EMEA,\n" + "".join(rows)
    source = tmp_path / "staff.csv"
    source.write_text(data)
    started = time.monotonic()
    done = stack.cli("users", "import", str(source), "--tenant", tenant, "--api", stack.api, timeout=600)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "... processing" in done.stderr or "... completed" in done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["rows"], result["created"], result["failed"]) == ("completed", 503, 501, 2)
    report = list(csv.DictReader((tmp_path / "staff.errors.csv").open()))
    assert [(r["row"], r["field"]) for r in report] == [("13", "email"), ("23", "roles")]
    print(f"\n{result['rows'] / seconds:.0f} rows/s over HTTP against the local stack ({result['chunks']} chunks)")
    again = stack.cli("users", "import", str(source), "--tenant", tenant, "--api", stack.api, timeout=600)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert (rerun["unchanged"], rerun["created"], rerun["updated"], rerun["failed"]) == (501, 0, 0, 2)


def test_import_command_says_why_a_file_is_not_importable(stack: Any, tmp_path: Path) -> None:
    tenant = stack.make_tenant(f"imp-{uuid.uuid4().hex[:8]}")["id"]
    bogus = tmp_path / "people.csv"
    bogus.write_text("name,team\nAnn,Sales\n")
    done = stack.cli("users", "import", str(bogus), "--tenant", tenant, "--api", stack.api)
    assert done.returncode == 1
    assert "no `email` column" in done.stderr and "Traceback" not in done.stderr
