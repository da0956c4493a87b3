"""schemathesis against the live stack's /openapi.json with an operator token: no input is a 5xx.

Bounded (few examples per operation, fixed seed, no example database) so it stays a suite test, not
a soak. Path ids point at a tenant, user and client made for it, so operations reach their service code
instead of stopping at a 404; whatever it creates or suspends stays inside that tenant.

The operations are split over two schemathesis processes that run side by side (POSTs, and the rest):
about half the wall time on two cores. Processes, not `--workers`: schemathesis' worker threads trip
CPython 3.11's thread-unsafe AST validator (`SystemError: AST constructor recursion depth mismatch`)
when hypothesis describes a filter lambda.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
MAX_EXAMPLES = 5
SEED = 20261123
SHARDS = {"posts": ["--include-method", "POST"], "others": ["--exclude-method", "POST"]}


def _schemathesis() -> list[str]:
    script = Path(sys.executable).parent / "schemathesis"
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemathesis.cli"]


def _targets(stack: Stack, tmp_path: Path) -> Path:
    run = uuid.uuid4().hex[:8]
    tenant = stack.make_tenant(f"fuzz-{run}", "reseller")
    user = stack.make_user(tenant["id"], f"fuzz-{run}@fuzz.example", ["learner"])
    client = stack.call("POST", f"/v1/tenants/{tenant['id']}/clients", {"name": "fuzz", "scopes": ["users:read"]},
                        stack.operator)
    assert client.status == 201, client.body
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        f'tenantId = "{tenant["id"]}"\nuserId = "{user["id"]}"\nclientId = "{client.json()["clientId"]}"\n')
    return config


def test_no_input_is_a_server_error(stack: Stack, tmp_path: Path) -> None:
    config = _targets(stack, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    env["NO_COLOR"] = "1"
    running = {}
    for shard, selection in SHARDS.items():
        workdir = tmp_path / shard  # its caches (.schemathesis/, .hypothesis/) stay out of the repository
        workdir.mkdir()
        log = workdir / "report.txt"
        with open(log, "wb") as out:
            running[shard] = (log, subprocess.Popen(
                [*_schemathesis(), "--config-file", str(config), "run", f"{stack.api}/openapi.json",
                 *selection, "--checks", "not_a_server_error", "--max-examples", str(MAX_EXAMPLES),
                 "--seed", str(SEED), "--generation-database", "none", "--request-timeout", "30",
                 "--no-color", "--header", f"Authorization: Bearer {stack.operator}"],
                cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    generated = 0
    for shard, (log, proc) in running.items():
        try:
            proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        report = log.read_text(errors="replace")
        assert proc.returncode == 0, f"schemathesis ({shard}):\n{report[-12000:]}"
        counts = re.search(r"(\d+) generated, (\d+) passed", report)
        assert counts and counts.group(1) == counts.group(2), report[-3000:]
        generated += int(counts.group(1))
    assert generated > 200
