"""The `onramp` CLI in-process: jobs through chalice.test.Client (moto), credentials, readable errors."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import cli, seed


@pytest.fixture()
def restore_env() -> Iterator[None]:
    """Commands that point the process at an emulator change os.environ and the cached settings."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    from chalicelib import aws, config

    config.reset()
    aws.reset()


def test_jobs_list_names_every_registered_job(capsys: Any) -> None:
    from chalicelib.jobs import JOBS

    assert cli.main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert JOBS and all(name in out for name in JOBS)
    assert "cron(0 3 1 * ? *)" in out


def test_jobs_run_invokes_the_scheduled_handler_as_of_a_date(aws: None, capsys: Any) -> None:
    from chalicelib.auth import keys

    before = keys.signing_key().kid
    assert cli.main(["--aws-env", "jobs", "run", "rotate-signing-keys", "--as-of", "2027-01-31"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["asOf"] == "2027-01-31T00:00:00+00:00"
    assert result["signingKid"] != before
    assert result["publishedKids"] == [result["signingKid"], before]
    assert keys.signing_key().kid == result["signingKid"]


def test_jobs_run_accepts_an_iso_time(aws: None, capsys: Any) -> None:
    assert cli.main(["--aws-env", "jobs", "run", "rotate-signing-keys", "--as-of", "2027-01-31T10:30:00Z"]) == 0
    assert json.loads(capsys.readouterr().out)["asOf"] == "2027-01-31T10:30:00+00:00"


def test_unknown_job_lists_the_jobs_and_exits_2(capsys: Any) -> None:
    assert cli.main(["--aws-env", "jobs", "run", "no-such-job"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-job" in err and "rotate-signing-keys" in err


def test_bad_as_of_is_a_usage_error(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--aws-env", "jobs", "run", "rotate-signing-keys", "--as-of", "last tuesday"])
    assert exc.value.code == 2
    assert "last tuesday" in capsys.readouterr().err


def test_keys_rotate(aws: None, capsys: Any) -> None:
    assert cli.main(["--aws-env", "keys", "rotate"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["signingKid"] in doc["publishedKids"] and len(doc["publishedKids"]) == 2


def test_seed_command_reports_created_then_existing(aws: None, capsys: Any) -> None:
    assert cli.main(["--aws-env", "seed", "-q"]) == 0
    assert f"{seed.steps()} created, 0 already there" in capsys.readouterr().out
    assert cli.main(["--aws-env", "seed", "-q"]) == 0
    out = capsys.readouterr().out
    assert f"0 created, {seed.steps()} already there" in out and "admin@northwind.example" in out


def test_no_command_prints_help(capsys: Any) -> None:
    assert cli.main([]) == 2
    assert "usage: onramp" in capsys.readouterr().err


# -- readable errors -------------------------------------------------------------------------------
def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_taken_api_port_is_one_line_naming_it(monkeypatch: Any, capsys: Any, restore_env: None) -> None:
    with _listening() as taken:
        port = taken.getsockname()[1]
        monkeypatch.setenv("ONRAMP_API_PORT", str(port))
        assert cli.main(["dev"]) == 1
    assert capsys.readouterr().err == f"port {port} is in use: set ONRAMP_API_PORT\n"


def test_taken_emulator_port_is_one_line_naming_it(monkeypatch: Any, capsys: Any, restore_env: None) -> None:
    with _listening() as taken, socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        monkeypatch.setenv("ONRAMP_API_PORT", str(free.getsockname()[1]))
        free.close()
        port = taken.getsockname()[1]
        monkeypatch.setenv("ONRAMP_AWS_PORT", str(port))
        monkeypatch.delenv("ONRAMP_AWS_ENDPOINT", raising=False)
        assert cli.main(["dev"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"port {port} is in use: set ONRAMP_AWS_PORT") and err.count("\n") == 1


def test_bad_port_value(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("ONRAMP_API_PORT", "eighty")
    assert cli.main(["dev"]) == 2
    assert "ONRAMP_API_PORT" in capsys.readouterr().err


def test_unreachable_emulator_names_the_url(monkeypatch: Any, capsys: Any, restore_env: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening: refused
        monkeypatch.setenv("ONRAMP_AWS_ENDPOINT", url)
        assert cli.main(["seed", "-q"]) == 1
        assert cli.main(["keys", "rotate"]) == 1
        assert cli.main(["jobs", "run", "rotate-signing-keys"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(url in line and "not reachable" in line for line in err)
    assert "Traceback" not in "".join(err)


def test_local_environment_points_every_client_at_the_emulator(restore_env: None) -> None:
    from chalicelib.config import settings

    os.environ["AWS_PROFILE"] = "someone-real"
    cli.use_local_aws("http://127.0.0.1:4566")
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test" and "AWS_PROFILE" not in os.environ
    assert settings().aws_endpoint == "http://127.0.0.1:4566"  # the cached settings were re-read


# -- the operator's bootstrap credentials ----------------------------------------------------------
@pytest.fixture()
def state(tmp_path: Any, monkeypatch: Any) -> Any:
    monkeypatch.setenv("ONRAMP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("ONRAMP_OPERATOR_CLIENT_ID", raising=False)
    monkeypatch.delenv("ONRAMP_OPERATOR_CLIENT_SECRET", raising=False)
    return tmp_path / "state" / "credentials.json"


def test_credentials_are_generated_once_private_and_reused(state: Any) -> None:
    creds, source = cli.operator_credentials("http://127.0.0.1:8000")
    assert source == str(state)
    doc = json.loads(state.read_text())
    assert list(doc) == ["clientId", "clientSecret", "tokenUrl", "apiUrl"]
    assert doc == creds and doc["tokenUrl"] == "http://127.0.0.1:8000/v1/oauth/token"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    again, _ = cli.operator_credentials("http://127.0.0.1:9000")
    assert (again["clientId"], again["clientSecret"]) == (creds["clientId"], creds["clientSecret"])
    assert json.loads(state.read_text())["apiUrl"] == "http://127.0.0.1:9000"


def test_credentials_from_the_environment_win(state: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("ONRAMP_OPERATOR_CLIENT_ID", "op-id")
    monkeypatch.setenv("ONRAMP_OPERATOR_CLIENT_SECRET", "op-secret")
    creds, source = cli.operator_credentials("http://127.0.0.1:8000")
    assert (creds["clientId"], creds["clientSecret"], source) == ("op-id", "op-secret", "environment")
    assert not state.exists()


def test_half_the_credentials_in_the_environment_is_an_error(state: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("ONRAMP_OPERATOR_CLIENT_ID", "op-id")
    with pytest.raises(cli.CliError, match="ONRAMP_OPERATOR_CLIENT_SECRET"):
        cli.operator_credentials("http://127.0.0.1:8000")


def test_a_corrupt_credentials_file_is_named(state: Any) -> None:
    state.parent.mkdir(parents=True)
    state.write_text("{not json")
    with pytest.raises(cli.CliError, match="credentials.json"):
        cli.operator_credentials("http://127.0.0.1:8000")
