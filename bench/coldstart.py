"""Cold start, as a ratio against a bare Chalice + boto3 app measured in the same run.

Every sample is a fresh interpreter. Two figures:
- import: `import app` against `import hello` (wall time of the whole process, so interpreter start-up
  is in both);
- import + first request: each child imports its app and answers one API Gateway event through the
  Lambda entry point (`app(event, context)`), timed inside the child. Onramp's request is authenticated
  (JWT verified against the platform secret, tenant authorised, tenant read); the bare app's does one
  DynamoDB GetItem. The AWS emulator runs out of process (moto's server), so nothing is pre-imported in
  the child and what Onramp defers to the first request is counted.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import env

Say = Callable[[str], None]

HELLO = '''\
import boto3
from chalice import Chalice

app = Chalice(app_name="hello")


@app.route("/")
def index():
    boto3.client("dynamodb").get_item(TableName="{table}", Key={{"PK": {{"S": "hello"}}, "SK": {{"S": "hello"}}}})
    return {{"hello": "world"}}
'''

# A child that imports an app and serves one event; it prints one JSON line, prefixed.
CHILD = '''\
import time
t0 = time.perf_counter()
import json, sys
sys.path.insert(0, {root!r})
from {module} import app
t1 = time.perf_counter()


class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench-request"
    log_group_name = log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 30000


response = app(json.loads({event!r}), Context())
t2 = time.perf_counter()
print("BENCH " + json.dumps({{"import_ms": (t1 - t0) * 1000, "request_ms": (t2 - t1) * 1000,
                             "total_ms": (t2 - t0) * 1000, "status": response["statusCode"]}}))
'''

MARK = "BENCH "


def event(method: str, resource: str, path: str, params: dict[str, str] | None, token: str | None) -> str:
    headers = {"host": "bench.execute-api.us-east-1.amazonaws.com", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return json.dumps({
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": params, "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": path, "stage": "api",
                           "requestId": "bench-request", "identity": {"sourceIp": "127.0.0.1"}},
    })


def _wall(cmd: list[str], cwd: Path, environ: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=environ, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return (time.perf_counter() - started) * 1000


def _child(script: Path, cwd: Path, environ: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(script)], cwd=cwd, env=environ, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(MARK)]
    if done.returncode or not lines:
        raise RuntimeError(f"{script.name} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARK):])
    return result


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def _summary(samples: list[float]) -> dict[str, Any]:
    return {"median_ms": _median(samples), "min_ms": round(min(samples), 1), "max_ms": round(max(samples), 1),
            "samples": len(samples)}


def heaviest_imports(cmd: list[str], cwd: Path, environ: dict[str, str], top: int = 10) -> list[dict[str, Any]]:
    """`python -X importtime ...`: import self time summed per top-level package, heaviest first."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, env=environ,
                          capture_output=True, text=True, check=True)
    per_package: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        package = name.strip().split(".")[0]
        per_package[package] = per_package.get(package, 0) + int(self_us)
    rows = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": name, "self_ms": round(us / 1000, 1)} for name, us in rows]


def import_ratio(runs: int, say: Say, workdir: Path) -> dict[str, Any]:
    environ = env.child()
    (workdir / "hello.py").write_text(HELLO.format(table=env.BASE["ONRAMP_TABLE"]))
    commands = {
        "bare": ([sys.executable, "-c", "pass"], env.ROOT),
        "hello": ([sys.executable, "-c", "import hello"], workdir),
        "app": ([sys.executable, "-c", "import app"], env.ROOT),
    }
    for cmd, cwd in commands.values():  # compile .pyc files and warm the OS cache, untimed
        _wall(cmd, cwd, environ)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs):
        order = list(commands) if i % 2 == 0 else list(reversed(commands))
        for name in order:
            samples[name].append(_wall(*commands[name], environ))
        if (i + 1) % 5 == 0:
            say(f"    import: {i + 1}/{runs} rounds")
    out = {name: _summary(values) for name, values in samples.items()}
    app_ms, hello_ms, bare_ms = (out[n]["median_ms"] for n in ("app", "hello", "bare"))
    out["ratio"] = round(app_ms / hello_ms, 3)
    out["ratio_net_of_interpreter"] = round((app_ms - bare_ms) / (hello_ms - bare_ms), 3)
    out["heaviest_packages"] = heaviest_imports(["-c", "import app"], env.ROOT, environ)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(say: Say) -> Iterator[str]:
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env=env.child(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)
        say(f"    moto server on {endpoint} (pid {proc.pid})")
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def seed(endpoint: str) -> dict[str, str]:
    """A tenant and a logged-in admin in the emulator, made by a separate process (`--seed`)."""
    done = subprocess.run([sys.executable, "-m", "bench.coldstart", "--seed"], cwd=env.ROOT,
                          env=env.child(endpoint), capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(MARK)]
    if done.returncode or not lines:
        raise RuntimeError(f"seeding failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    seeded: dict[str, str] = json.loads(lines[-1][len(MARK):])
    return seeded


def _seed_here() -> None:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    env.apply()
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    from chalice.test import Client

    from app import app
    from chalicelib.store import table
    from tests.unit.factories import Api

    table.ensure_table()
    table.ensure_bucket()
    with Client(app) as client:
        api = Api(client)
        tenant = api.make_tenant(name="Cold Start", slug="cold-start")
        token = api.tenant_admin(tenant["id"])
    print(MARK + json.dumps({"tenant_id": tenant["id"], "token": token}))


def first_request_ratio(runs: int, say: Say, workdir: Path) -> dict[str, Any]:
    with moto_server(say) as endpoint:
        seeded = seed(endpoint)
        tid = seeded["tenant_id"]
        environ = env.child(endpoint)
        onramp_event = event("GET", "/v1/tenants/{tenantId}", f"/v1/tenants/{tid}", {"tenantId": tid},
                             seeded["token"])
        hello_event = event("GET", "/", "/", None, None)
        (workdir / "hello.py").write_text(HELLO.format(table=env.BASE["ONRAMP_TABLE"]))
        scripts = {
            "hello": workdir / "child_hello.py",
            "app": workdir / "child_app.py",
        }
        scripts["hello"].write_text(CHILD.format(root=str(workdir), module="hello", event=hello_event))
        scripts["app"].write_text(CHILD.format(root=str(env.ROOT), module="app", event=onramp_event))
        for name, script in scripts.items():  # warm-up, untimed; also proves both answer 200
            status = _child(script, workdir, environ)["status"]
            if status != 200:
                raise RuntimeError(f"{name}'s first request answered {status}")
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in scripts}
        for i in range(runs):
            order = list(scripts) if i % 2 == 0 else list(reversed(scripts))
            for name in order:
                samples[name].append(_child(scripts[name], workdir, environ))
            if (i + 1) % 5 == 0:
                say(f"    first request: {i + 1}/{runs} rounds")
        heaviest_packages = heaviest_imports([str(scripts["app"])], workdir, environ)
    out: dict[str, Any] = {}
    for name, rows in samples.items():
        out[name] = {part: _median([r[part] for r in rows]) for part in ("import_ms", "request_ms", "total_ms")}
        out[name]["samples"] = len(rows)
        out[name]["statuses"] = sorted({r["status"] for r in rows})
    out["ratio"] = round(out["app"]["total_ms"] / out["hello"]["total_ms"], 3)
    out["heaviest_packages"] = heaviest_packages
    out["request"] = {"app": "GET /v1/tenants/{tenantId} as the tenant's admin (cold container)",
                      "hello": "GET / doing one DynamoDB GetItem"}
    return out


def measure(runs: int, say: Say) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="onramp-bench-") as tmp:
        workdir = Path(tmp)
        say("  cold import (fresh interpreters)")
        imports = import_ratio(runs, say, workdir)
        say("  cold import + first request (moto server out of process)")
        first = first_request_ratio(runs, say, workdir)
    return {"import": imports, "first_request": first}


if __name__ == "__main__" and "--seed" in sys.argv:
    _seed_here()
