"""`onramp`: the local stack and operator tasks.

    onramp dev                          the whole local stack (what `make run` runs), with the event pump
                                        that feeds the stream and queue handlers (chalicelib/localpump.py)
    onramp seed                         the demo data, against the configured emulator
    onramp jobs list                    the registered scheduled jobs
    onramp jobs run NAME --as-of DATE   run one job now, as of a date, through chalice.test.Client
    onramp jobs run scorecards --quarter 2027Q1   a quarter's scorecards (as of the quarter's close)
    onramp courses upload FILE.zip --tenant ID [--publish]   a package into a course, over the API
    onramp courses starter [OUT_DIR]     the starter courses as SCORM zips
    onramp users import FILE.csv --tenant ID   a CSV of users into a tenant, over the API, with progress
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
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.localstack import (  # noqa: F401 - re-exported for tests and callers
    DEFAULT_API_PORT,
    DEFAULT_AWS_PORT,
    HOST,
    CliError,
    Emulator,
    configured_endpoint,
    operator_credentials,
    port_from_env,
    require_free,
    require_reachable,
    state_dir,
    stop_on_signals,
    use_local_aws,
    write_private,
)


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


def _start_pump(stack: contextlib.ExitStack) -> None:
    """The app's stream and queue handlers, fed as Lambda would (`chalice local` serves HTTP only);
    stopped before the emulator is."""
    from app import app
    from chalicelib.localpump import EventPump

    stack.callback(EventPump(app).start().stop)


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


def _demo_lrs(report: Any) -> dict[str, str]:
    """The demo tenant's LRS credential, kept in the state dir because its secret is shown only once."""
    from chalicelib import seed

    path = state_dir() / "lrs.json"
    try:
        saved = json.loads(path.read_text()) if path.exists() else None
    except ValueError:
        saved = None
    doc, created = seed.ensure_lrs_credential(report, saved)
    if created or doc != saved:
        write_private(path, doc)
    return dict(doc)


def _banner(api_url: str, emulator: str, started: bool, creds: dict[str, str], source: str,
            report: Any, lrs: dict[str, str]) -> None:
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
    print(f"xAPI LRS of {lrs['tenant']} (HTTP Basic; from {state_dir() / 'lrs.json'})")
    print(f"  endpoint       {api_url}/v1/tenants/{lrs['tenantId']}/xapi/")
    print(f"  key            {lrs['key']}")
    print(f"  secret         {lrs['secret']}")
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

    with contextlib.ExitStack() as stack, stop_on_signals():
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
            _start_pump(stack)  # before the seed: its events reach their subscribers, as deployed
            report = _seed_with_progress(quiet=args.quiet)
            _banner(api_url, endpoint, emulator is not None, creds, source, report, _demo_lrs(report))
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


def quarter(value: str) -> str:
    from chalicelib.partners import quarters

    if quarters.parse(value) is None:
        raise argparse.ArgumentTypeError(f"`{value}` is not a quarter (2027Q1)")
    return quarters.normal(value)


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
    if getattr(args, "quarter", None):  # a quarterly job runs as of the quarter's close: it computes that quarter
        if args.as_of:
            raise CliError("give --as-of or --quarter, not both", 2)
        from chalicelib.partners import quarters

        stamp = quarters.end(args.quarter).isoformat()
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


def cmd_courses_upload(args: argparse.Namespace) -> int:
    from chalicelib.content import client as api_client

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file", 2)
    if bool(args.tenant) == bool(args.library):
        raise CliError("give --tenant ID or --library", 2)
    api_url = (args.api or f"http://{HOST}:{port_from_env('ONRAMP_API_PORT', DEFAULT_API_PORT)}").rstrip("/")
    creds, _ = operator_credentials(api_url)
    client = api_client.Client(api_url)
    try:
        client.login(creds["clientId"], creds["clientSecret"])
        base = "/v1/library" if args.library else f"/v1/tenants/{args.tenant}"
        result = api_client.upload(client, base, path.read_bytes(), path.name, course_id=args.course,
                                   title=args.title, publish=args.publish,
                                   progress=lambda line: print(f"... {line}", file=sys.stderr))
    except api_client.ApiError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def cmd_users_import(args: argparse.Namespace) -> int:
    from chalicelib.content import client as api_client
    from chalicelib.users import import_client

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file", 2)
    api_url = (args.api or f"http://{HOST}:{port_from_env('ONRAMP_API_PORT', DEFAULT_API_PORT)}").rstrip("/")
    creds, _ = operator_credentials(api_url)
    client = api_client.Client(api_url)
    name = path.name if path.name.lower().endswith(".csv") else f"{path.name}.csv"
    try:
        client.login(creds["clientId"], creds["clientSecret"])
        done = import_client.run_import(client, args.tenant, path.read_bytes(), name,
                                        progress=lambda line: print(f"... {line}", file=sys.stderr))
        report = Path(args.report or path.with_name(f"{path.stem}.errors.csv"))
        if done.get("errorReport"):
            report.write_bytes(import_client.fetch_report(done["errorReport"]))
            done["errorReportPath"] = str(report)
    except api_client.ApiError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps({k: v for k, v in done.items() if k != "errorReport"}, indent=2, sort_keys=True))
    if done["status"] == "failed":
        raise CliError(f"the import failed: {done.get('problem')}")
    if done.get("errorReportPath"):
        print(f"{done['failed']} row(s) failed: see {done['errorReportPath']}", file=sys.stderr)
    return 0


def cmd_courses_starter(args: argparse.Namespace) -> int:
    from chalicelib.content import starter

    for slug, path in starter.build_all(Path(args.out_dir)).items():
        print(f"{slug:<20} {starter.STARTER[slug].format:<10} {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="onramp", description="Onramp: the local stack and operator tasks.")
    top.add_argument("--aws-env", action="store_true",
                     help="use the AWS settings of the environment as they are (real AWS, or an endpoint "
                          "you set) instead of the local emulator")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    dev = sub.add_parser("dev", help="run the local stack: emulator, table, demo data, API, event pump (make run)")
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
    run.add_argument("--quarter", type=quarter, metavar="YYYYQN",
                     help="quarterly jobs (scorecards): the quarter to compute, e.g. 2027Q1 (runs as of its close)")
    run.set_defaults(func=cmd_jobs_run)
    courses = sub.add_parser("courses", help="course packages").add_subparsers(dest="courses_command",
                                                                              metavar="ACTION")
    upload = courses.add_parser("upload", help="upload a SCORM/cmi5/xAPI zip into a course (over the API, as the "
                                               "operator), wait for the ingest, optionally publish")
    upload.add_argument("file", metavar="FILE.zip")
    upload.add_argument("--tenant", metavar="ID", help="the tenant whose private library gets the course")
    upload.add_argument("--library", action="store_true", help="the operator's shared library instead")
    upload.add_argument("--course", metavar="ID", help="an existing course (default: create one)")
    upload.add_argument("--title", help="the new course's title (default: the file's name)")
    upload.add_argument("--publish", action="store_true", help="publish the new version")
    upload.add_argument("--api", metavar="URL", help="the API (default: http://127.0.0.1:$ONRAMP_API_PORT)")
    upload.set_defaults(func=cmd_courses_upload)
    starter_cmd = courses.add_parser("starter", help="package the starter courses (content_bucket/courses) as zips")
    starter_cmd.add_argument("out_dir", nargs="?", default="build/courses", metavar="OUT_DIR")
    starter_cmd.set_defaults(func=cmd_courses_starter)
    users = sub.add_parser("users", help="users").add_subparsers(dest="users_command", metavar="ACTION")
    imp = users.add_parser("import", help="import users from a CSV into a tenant (over the API, as the operator): "
                                          "upload, wait with progress, print the counts, save the error report")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--tenant", metavar="ID", required=True, help="the tenant the users belong to")
    imp.add_argument("--report", metavar="OUT.csv", help="where to save the error report (default: FILE.errors.csv)")
    imp.add_argument("--api", metavar="URL", help="the API (default: http://127.0.0.1:$ONRAMP_API_PORT)")
    imp.set_defaults(func=cmd_users_import)
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
