"""The local stack's plumbing: ports, the emulator child process, AWS environment, credentials file.

Only the standard library is imported here: the AWS environment must be in place before any module
that reads settings is imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HOST = "127.0.0.1"
DEFAULT_AWS_PORT = 4566
DEFAULT_API_PORT = 8000


class CliError(Exception):
    """An expected failure: one line on stderr, no traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# -- environment -----------------------------------------------------------------------------------
def port_from_env(var: str, default: int) -> int:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise CliError(f"{var} must be a port number (1-65535), not `{raw}`", 2)
    return int(raw)


def configured_endpoint() -> str:
    """The AWS endpoint the operator commands use: ONRAMP_AWS_ENDPOINT, AWS_ENDPOINT_URL, else the
    local emulator's port."""
    explicit = os.environ.get("ONRAMP_AWS_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    if explicit:
        return explicit.rstrip("/")
    return f"http://{HOST}:{port_from_env('ONRAMP_AWS_PORT', DEFAULT_AWS_PORT)}"


def use_local_aws(endpoint: str) -> None:
    """Point every AWS client of this process (boto3 and pynamodb) at the emulator, with fake creds."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",  # never real keys to an emulator
        "AWS_REGION": region, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or region,
    })
    for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(var, None)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    if "chalicelib.config" in sys.modules:  # settings read before: read them again
        from chalicelib import aws, config

        config.reset()
        aws.reset()


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"`{url}` is not an http(s) URL", 2)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def reachable(url: str, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection(_address(url), timeout=timeout):
            return True
    except OSError:
        return False


def require_reachable(url: str, hint: str = "start the stack with `make run`, or set ONRAMP_AWS_ENDPOINT") -> None:
    if not reachable(url):
        raise CliError(f"the AWS emulator is not reachable at {url} ({hint})")


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free(port: int, var: str, hint: str = "") -> None:
    if not port_is_free(port):
        raise CliError(f"port {port} is in use: set {var}{hint}")


# -- operator credentials --------------------------------------------------------------------------
def state_dir() -> Path:
    """Local state (credentials, emulator log): ONRAMP_STATE_DIR, else .onramp/ here (git-ignored)."""
    return Path(os.environ.get("ONRAMP_STATE_DIR") or ".onramp")


def write_private(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def operator_credentials(api_url: str) -> tuple[dict[str, str], str]:
    """The operator's bootstrap client: from the environment, else `.onramp/credentials.json`
    (generated on the first run, reused after). Returns the credentials and where they came from."""
    urls = {"tokenUrl": f"{api_url}/v1/oauth/token", "apiUrl": api_url}
    env_id = os.environ.get("ONRAMP_OPERATOR_CLIENT_ID", "")
    env_secret = os.environ.get("ONRAMP_OPERATOR_CLIENT_SECRET", "")
    if env_id or env_secret:
        if not (env_id and env_secret):
            raise CliError("set both ONRAMP_OPERATOR_CLIENT_ID and ONRAMP_OPERATOR_CLIENT_SECRET, or neither", 2)
        return {"clientId": env_id, "clientSecret": env_secret, **urls}, "environment"
    path = state_dir() / "credentials.json"
    if path.exists():
        try:
            doc = json.loads(path.read_text())
            creds = {"clientId": str(doc["clientId"]), "clientSecret": str(doc["clientSecret"]), **urls}
        except (ValueError, KeyError, TypeError):
            raise CliError(f"{path} is not a credentials file (delete it to generate a new one)") from None
        if doc != creds or (path.stat().st_mode & 0o077):
            write_private(path, creds)
        return creds, str(path)
    creds = {"clientId": f"operator-{secrets.token_hex(6)}", "clientSecret": secrets.token_urlsafe(32), **urls}
    write_private(path, creds)
    return creds, str(path)


# -- the emulator ----------------------------------------------------------------------------------
def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Emulator:
    """moto's server mode as a child process (through `chalicelib.emulator`, which makes DynamoDB
    transactions cost what they touch): no orphan, whatever way this process ends."""

    def __init__(self, host: str, port: int, log: Path) -> None:
        self.host, self.port, self.log_path = host, port, log
        self.url = f"http://{host}:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Emulator:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chalicelib.emulator", "-H", self.host, "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop it (no half-dead child)
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
                raise CliError(f"the AWS emulator (moto server) exited with code {self.proc.returncode}: "
                               f"{tail[0]} (log: {self.log_path})")
            if reachable(self.url, timeout=0.5):
                return
            time.sleep(0.05)
        raise CliError(f"the AWS emulator did not start on {self.url} within {timeout:.0f}s (log: {self.log_path})")

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            # moto exits on SIGTERM once its open keep-alive connections (ours) end: don't wait for
            # those; it holds nothing worth flushing
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT (even when a non-interactive shell started us with it ignored), SIGTERM and SIGHUP end the
    stack the way Ctrl-C does: the cleanup runs."""

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- commands --------------------------------------------------------------------------------------
