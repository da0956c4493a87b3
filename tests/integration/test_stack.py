"""What `make run` promises: the printed URLs and credentials work, the seed is idempotent, the CLI
talks to the running emulator."""

from __future__ import annotations

import base64
import json
import re

import pytest

from chalicelib import seed
from tests.integration.conftest import OPERATOR_ID, OPERATOR_SECRET, Stack

pytestmark = pytest.mark.integration


def test_banner_prints_urls_and_operator_credentials(stack: Stack) -> None:
    out = stack.output()
    for url in (stack.api, f"{stack.api}/docs", f"{stack.api}/openapi.json", stack.aws):
        assert url in out
    assert OPERATOR_ID in out and OPERATOR_SECRET in out
    assert "Press Ctrl-C to stop." in out


def test_printed_demo_credentials_log_in(stack: Stack) -> None:
    out = stack.output()
    assert f"password for all: {seed.DEMO_PASSWORD}" in out
    rows = re.findall(r"^\s+(\S+@\S+)\s.*tenantId (tn-[0-9a-z]+)\)$", out, re.MULTILINE)
    assert sorted(email for email, _ in rows) == sorted(u.email for u in seed.USERS)
    for email, tenant_id in rows:
        token = stack.login(tenant_id, email, seed.DEMO_PASSWORD)
        assert stack.call("GET", f"/v1/tenants/{tenant_id}", token=token).status == 200, email


def test_printed_operator_credentials_work(stack: Stack) -> None:
    out = stack.output()
    client_id = re.search(r"^\s+client id\s+(\S+)$", out, re.MULTILINE)
    secret = re.search(r"^\s+client secret\s+(\S+)$", out, re.MULTILINE)
    assert client_id and secret
    reply = stack.token(client_id.group(1), secret.group(1))
    assert reply.status == 200, reply.body
    tenants = stack.call("GET", "/v1/tenants?limit=100", token=reply.json()["access_token"]).json()["items"]
    assert {t.slug for t in seed.TENANTS} <= {t["slug"] for t in tenants}


def test_printed_lrs_credential_stores_and_reads_a_statement(stack: Stack) -> None:
    out = stack.output()
    endpoint = re.search(r"^\s+endpoint\s+(\S+)$", out, re.MULTILINE)
    key = re.search(r"^\s+key\s+(\S+)$", out, re.MULTILINE)
    secret = re.search(r"^\s+secret\s+(\S+)$", out, re.MULTILINE)
    assert endpoint and key and secret, out
    base = endpoint.group(1).removeprefix(stack.api).rstrip("/")
    auth = "Basic " + base64.b64encode(f"{key.group(1)}:{secret.group(1)}".encode()).decode()
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    statement = {"actor": {"mbox": "mailto:learner@acme.example", "objectType": "Agent"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
                 "object": {"id": "https://onramp.example/courses/prospecting-101", "objectType": "Activity"}}
    stored = stack.call("POST", f"{base}/statements", statement, headers=headers)
    assert stored.status == 200, stored.body
    (statement_id,) = stored.json()
    got = stack.call("GET", f"{base}/statements?statementId={statement_id}", headers=headers)
    assert got.status == 200 and got.json()["verb"]["id"].endswith("/completed")


def test_second_seed_against_the_same_emulator_creates_nothing(stack: Stack) -> None:
    done = stack.cli("seed", "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"0 created, {seed.steps()} already there" in done.stdout
    assert "Traceback" not in done.stderr


def test_jobs_run_against_the_emulator(stack: Stack) -> None:
    listed = stack.cli("jobs", "list")
    assert listed.returncode == 0 and "rotate-signing-keys" in listed.stdout
    done = stack.cli("jobs", "run", "rotate-signing-keys", "--as-of", "2027-01-31")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["asOf"] == "2027-01-31T00:00:00+00:00" and result["signingKid"] in result["publishedKids"]
    unknown = stack.cli("jobs", "run", "nope")
    assert unknown.returncode == 2 and "rotate-signing-keys" in unknown.stderr


def test_a_second_dev_on_the_same_ports_says_which_port(stack: Stack) -> None:
    done = stack.cli("dev", "--quiet", timeout=60)
    api_port = stack.api.rsplit(":", 1)[1]
    assert done.returncode != 0
    assert done.stderr.strip() == f"port {api_port} is in use: set ONRAMP_API_PORT"
