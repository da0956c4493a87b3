"""`onramp`: the local stack and operator tasks.

    onramp dev                          the whole local stack (what `make run` runs)
    onramp seed                         the demo data, against the configured emulator
    onramp jobs list                    the registered scheduled jobs
    onramp jobs run NAME --as-of DATE   run one job now, as of a date, through chalice.test.Client
    onramp keys rotate                  a new JWT signing key (the previous one stays published)

Only the standard library is imported at module level: the AWS environment must be in place before
any module that reads settings (chalicelib.config caches them; the pynamodb models read the table
name at import) is imported.
"""

from __future__ import annotations

import argparse
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
from datetime import datetime
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


def _write_private(path: Path, doc: dict[str, Any]) -> None:
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
            _write_private(path, creds)
        return creds, str(path)
    creds = {"clientId": f"operator-{secrets.token_hex(6)}", "clientSecret": secrets.token_urlsafe(32), **urls}
    _write_private(path, creds)
    return creds, str(path)


# -- the emulator ----------------------------------------------------------------------------------
def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Emulator:
    """moto's server mode as a child process: no orphan, whatever way this process ends."""

    def __init__(self, host: str, port: int, log: Path) -> None:
        self.host, self.port, self.log_path = host, port, log
        self.url = f"http://{host}:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Emulator:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
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
def _stop_on_signals() -> Iterator[None]:
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
def _prepare_aws(args: argparse.Namespace) -> None:
    """Operator commands: the configured endpoint (unless --aws-env), which must answer."""
    if args.aws_env:
        return
    endpoint = configured_endpoint()
    use_local_aws(endpoint)
    require_reachable(endpoint)


def _bind_api(host: str, port: int) -> Any:
    from app import app
    from chalicelib.devserver import local_server

    try:
        return local_server(app, host, port)
    except OSError as exc:
        raise CliError(f"port {port} is in use: set ONRAMP_API_PORT ({exc.strerror})") from None


def _seed_with_progress(quiet: bool = False) -> Any:
    from chalicelib import seed

    try:
        from tqdm import tqdm
    except ImportError:  # the dev extra brings tqdm; without it, no bar
        return seed.run()
    with tqdm(total=seed.steps(), desc="seeding demo", unit="item", file=sys.stderr,
              disable=True if quiet else None, leave=False) as bar:
        def step(entry: Any) -> None:
            bar.set_postfix_str(entry.label, refresh=False)
            bar.update(1)

        return seed.run(on_step=step)


def _print_users(report: Any) -> None:
    from chalicelib import seed

    rows = seed.credentials_table(report)
    print(f"Demo users (password for all: {seed.DEMO_PASSWORD}; log in at POST /v1/tenants/<tenantId>/sessions)")
    width = max((len(r["email"]) for r in rows), default=0)
    for row in rows:
        print(f"  {row['email']:<{width}}  {row['roles']:<26} {row['tenant']} "
              f"({row['template']}, tenantId {row['tenantId']})")


def _banner(api_url: str, emulator: str, started: bool, creds: dict[str, str], source: str,
            report: Any) -> None:
    print()
    print("Onramp is running")
    print(f"  API            {api_url}")
    print(f"  API docs       {api_url}/docs")
    print(f"  OpenAPI        {api_url}/openapi.json")
    print(f"  AWS emulator   {emulator} ({'moto server, started here' if started else 'already running'})")
    print(f"Operator client (OAuth2 client credentials; from {source})")
    print(f"  client id      {creds['clientId']}")
    print(f"  client secret  {creds['clientSecret']}")
    print(f"  token URL      {creds['tokenUrl']}")
    print(f"Demo data: {report.summary()}")
    _print_users(report)
    print("Get an operator token:")
    print(f"  curl -s -u '{creds['clientId']}:{creds['clientSecret']}' "
          f"-d grant_type=client_credentials {creds['tokenUrl']}")
    print("Press Ctrl-C to stop.", flush=True)


def cmd_dev(args: argparse.Namespace) -> int:
    api_port = port_from_env("ONRAMP_API_PORT", DEFAULT_API_PORT)
    external = (os.environ.get("ONRAMP_AWS_ENDPOINT") or "").rstrip("/")
    require_free(api_port, "ONRAMP_API_PORT")
    aws_port = port_from_env("ONRAMP_AWS_PORT", DEFAULT_AWS_PORT)
    if external:
        require_reachable(external, "ONRAMP_AWS_ENDPOINT: start it, or unset the variable to use the embedded one")
        endpoint = external
    else:
        require_free(aws_port, "ONRAMP_AWS_PORT",
                     f" (or ONRAMP_AWS_ENDPOINT=http://{HOST}:{aws_port} to use the emulator running there)")
        endpoint = f"http://{HOST}:{aws_port}"
    api_url = f"http://{HOST}:{api_port}"
    creds, source = operator_credentials(api_url)
    os.environ["ONRAMP_OPERATOR_CLIENT_ID"] = creds["clientId"]
    os.environ["ONRAMP_OPERATOR_CLIENT_SECRET"] = creds["clientSecret"]
    use_local_aws(endpoint)

    with contextlib.ExitStack() as stack, _stop_on_signals():
        try:
            emulator = None
            if not external:
                emulator = Emulator(HOST, aws_port, state_dir() / "moto.log")
                stack.callback(emulator.start().stop)
            server = _bind_api(HOST, api_port)
            stack.callback(server.server.server_close)
            if emulator is not None:
                emulator.wait_ready()
            from chalicelib.auth import keys
            from chalicelib.store import table

            table.ensure_table()
            table.ensure_bucket()
            keys.platform_secret()  # the signing keys exist before the first token request
            report = _seed_with_progress(quiet=args.quiet)
            _banner(api_url, endpoint, emulator is not None, creds, source, report)
            server.server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            print("\nstopping Onramp", file=sys.stderr, flush=True)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    _prepare_aws(args)
    from chalicelib.store import table

    table.ensure_table()
    table.ensure_bucket()
    report = _seed_with_progress(quiet=args.quiet)
    print(f"Seeded the demo: {report.summary()}")
    for entry in report.entries:
        print(f"  {entry.kind:<6} {entry.label:<26} {'created' if entry.created else 'existing':<8} {entry.id}")
    _print_users(report)
    return 0


def _jobs() -> dict[str, Any]:
    import app  # noqa: F401 - registers every job (and its schedule) as the deployment does
    from chalicelib.jobs import JOBS

    return JOBS


def cmd_jobs_list(args: argparse.Namespace) -> int:
    jobs = _jobs()
    width = max((len(n) for n in jobs), default=0)
    for name in sorted(jobs):
        print(f"{name:<{width}}  {jobs[name].schedule:<22} {jobs[name].description}")
    return 0


def as_of(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{value}` is not a date (2027-01-31) or an ISO time") from None
    return moment.isoformat()


@contextlib.contextmanager
def _output_to_stderr() -> Iterator[None]:
    """While a job runs, its logs and EMF metrics go to stderr, so stdout is the result's JSON alone."""
    import logging

    from chalicelib import observability

    observability.logger()
    moved = [h for h in logging.getLogger(observability.SERVICE).handlers
             if isinstance(h, logging.StreamHandler) and h.stream in (sys.stdout, sys.__stdout__)]
    streams = [h.setStream(sys.stderr) for h in moved]
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for handler, stream in zip(moved, streams, strict=True):
            handler.setStream(stream)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    if not args.aws_env:
        use_local_aws(configured_endpoint())
    jobs = _jobs()
    if args.name not in jobs:
        raise CliError(f"unknown job `{args.name}`; the jobs are: {', '.join(sorted(jobs)) or '(none)'}", 2)
    _prepare_aws(args)
    from chalice.test import Client

    from app import app
    from chalicelib.config import settings
    from chalicelib.jobs import function_name

    stamp = args.as_of or datetime.now().astimezone().isoformat()
    cfg = settings()  # read (and cached) now: the test client patches the stage's env vars in below
    project = str(Path(sys.modules["app"].__file__ or ".").resolve().parent)
    with Client(app, stage_name=cfg.stage, project_dir=project) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={"asOf": stamp}, resources=[],
            region=cfg.region)
        with _output_to_stderr():
            result = client.lambda_.invoke(function_name(args.name), event).payload
    print(json.dumps(result, indent=2, sort_keys=True, default=str))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    _prepare_aws(args)
    from chalicelib.auth import keys

    kid = keys.rotate()
    print(json.dumps({"signingKid": kid, "publishedKids": sorted(keys.verification_keys())}, indent=2))
    print("A running API picks the new key up within 5 minutes (its key cache).", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="onramp", description="Onramp: the local stack and operator tasks.")
    top.add_argument("--aws-env", action="store_true",
                     help="use the AWS settings of the environment as they are (real AWS, or an endpoint "
                          "you set) instead of the local emulator")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    dev = sub.add_parser("dev", help="run the local stack: emulator, table, demo data, API (make run)")
    dev.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    dev.set_defaults(func=cmd_dev)
    seed = sub.add_parser("seed", help="create the demo data that is missing (idempotent)")
    seed.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(func=cmd_seed)
    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(dest="jobs_command", metavar="ACTION")
    jobs.add_parser("list", help="the registered jobs and their schedules").set_defaults(func=cmd_jobs_list)
    run = jobs.add_parser("run", help="run a job now, as of a time")
    run.add_argument("name", metavar="NAME")
    run.add_argument("--as-of", type=as_of, metavar="TIME", help="date or ISO time the job runs as of (default: now)")
    run.set_defaults(func=cmd_jobs_run)
    keys = sub.add_parser("keys", help="signing keys").add_subparsers(dest="keys_command", metavar="ACTION")
    keys.add_parser("rotate", help="add a new JWT signing key; the previous one stays published") \
        .set_defaults(func=cmd_keys_rotate)
    return top


def _expected_error(exc: BaseException) -> str | None:
    """A one-line message for failures that are not bugs (AWS unreachable, a domain rule)."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    from chalicelib.errors import OnrampError

    if isinstance(exc, BotoCoreError | ClientError):
        return f"AWS call failed: {exc}"
    if isinstance(exc, OnrampError):
        return f"{exc.title}: {exc.detail}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `onramp ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        message = _expected_error(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
