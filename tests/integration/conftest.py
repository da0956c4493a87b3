"""The live local stack, started by the same command `make run` runs (`onramp dev`), on free ports.

One stack per session: moto's server as a child process, the table, the demo seed and the Chalice
local server behind the hardened handler. The tests talk to it over HTTP (urllib / http.client) only.
Teardown is a SIGINT, as Ctrl-C; it asserts a clean exit and that no moto server is left behind.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_ID = "operator-integration"
OPERATOR_SECRET = "operator-secret-for-integration-tests"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def moto_pids(port: int) -> list[int]:
    """moto servers serving `port` (from /proc: this is Linux, like CI)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (b"moto.server" in argv or b"chalicelib.emulator" in argv) and str(port).encode() in argv:
            pids.append(int(entry.name))
    return pids


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", ""))


@dataclass
class Stack:
    api: str
    aws: str
    aws_port: int
    env: dict[str, str]
    out: Path
    proc: subprocess.Popen[bytes]
    _operator: str | None = field(default=None, repr=False)

    # -- HTTP -----------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.api + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.headers, err.read())

    def connection(self) -> http.client.HTTPConnection:
        host, port = self.api.removeprefix("http://").split(":")
        return http.client.HTTPConnection(host, int(port), timeout=30)

    def token(self, client_id: str, secret: str, *, basic: bool = True, scope: str | None = None) -> Reply:
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if basic:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        else:
            form.update(client_id=client_id, client_secret=secret)
        return self.call("POST", "/v1/oauth/token", raw=urlencode(form).encode(), headers=headers)

    @property
    def operator(self) -> str:
        if self._operator is None:
            reply = self.token(OPERATOR_ID, OPERATOR_SECRET)
            assert reply.status == 200, reply.body
            self._operator = str(reply.json()["access_token"])
        return self._operator

    # -- factories (over HTTP, as a client would) -----------------------------------------------
    def make_tenant(self, slug: str, template: str = "sales-team", **extra: Any) -> dict[str, Any]:
        reply = self.call("POST", "/v1/tenants", {"name": slug.title(), "slug": slug, "template": template,
                                                   **extra}, self.operator)
        assert reply.status == 201, reply.body
        return dict(reply.json())

    def make_user(self, tenant_id: str, email: str, roles: list[str], password: str | None = None,
                  token: str | None = None) -> dict[str, Any]:
        body = {"email": email, "displayName": email.split("@")[0], "roles": roles,
                **({"password": password} if password else {})}
        reply = self.call("POST", f"/v1/tenants/{tenant_id}/users", body, token or self.operator)
        assert reply.status == 201, reply.body
        return dict(reply.json())

    def login(self, tenant_id: str, email: str, password: str) -> str:
        reply = self.call("POST", f"/v1/tenants/{tenant_id}/sessions", {"email": email, "password": password})
        assert reply.status == 201, reply.body
        return str(reply.json()["access_token"])

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`onramp ARGS` against this stack's emulator."""
        return subprocess.run([sys.executable, "-m", "chalicelib.cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def stack_env(state_dir: Path, api_port: int, aws_port: int) -> dict[str, str]:
    """The developer's environment as `make run` would see it: no test settings, no real AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONRAMP_", "AWS_", "POWERTOOLS_"))}
    env.update({
        "ONRAMP_API_PORT": str(api_port), "ONRAMP_AWS_PORT": str(aws_port),
        "ONRAMP_OPERATOR_CLIENT_ID": OPERATOR_ID, "ONRAMP_OPERATOR_CLIENT_SECRET": OPERATOR_SECRET,
        "ONRAMP_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1",
    })
    return env


def _wait_healthy(stack: Stack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            pytest.fail(f"`onramp dev` exited with {stack.proc.returncode}:\n{stack.output()}")
        try:
            if stack.call("GET", "/v1/health").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the stack did not become healthy in {START_TIMEOUT:.0f}s:\n{stack.output()}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("onramp-state")
    api_port, aws_port = free_port(), free_port()
    while aws_port == api_port:
        aws_port = free_port()
    env = stack_env(state, api_port, aws_port)
    out = state / "dev.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "chalicelib.cli", "dev", "--quiet"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    running = Stack(api=f"http://127.0.0.1:{api_port}", aws=f"http://127.0.0.1:{aws_port}", aws_port=aws_port,
                    env=env, out=out, proc=proc)
    try:
        _wait_healthy(running)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"`onramp dev` did not stop on SIGINT:\n{running.output()}")
    assert proc.returncode == 0, running.output()
    deadline = time.monotonic() + 5
    while moto_pids(aws_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert moto_pids(aws_port) == [], "the moto server outlived `onramp dev`"
