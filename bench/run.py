"""`python -m bench.run` (`make bench`): DynamoDB calls per route, cold start ratios, event spread.

Prints a table as it goes and writes bench/results.json (git-ignored). Timings of moto would measure
moto, so requests are *counted*; only cold start is timed, as a ratio against a bare Chalice + boto3 app
measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import env

env.apply()
from bench.inprocess import ops  # noqa: E402 - after env.apply(), like every bench import

RESULTS = Path(__file__).resolve().parent / "results.json"
IMPORT_GOAL = 1.25
_out = sys.stdout


_t0 = time.perf_counter()


def say(line: str) -> None:
    print(f"{line}", file=_out, flush=True)


def stamp(line: str) -> None:
    say(f"{line}  [{time.perf_counter() - _t0:.0f} s]")


def print_routes(costs: dict[str, Any]) -> None:
    say(f"\n{'route':58} {'status':>6}  DynamoDB calls (warm tenant cache)")
    for route, row in sorted(costs["warm"].items(), key=lambda kv: kv[0].split(" ", 1)[::-1]):
        say(f"{route:58} {row['status']:>6}  {ops(row['dynamodb'])}")
    for route, counts in costs["cold"].items():
        say(f"{route + ' (cold cache)':58} {'':>6}  {ops(counts)}")
    say(f"Scans during the run: {costs['scans']}")


def print_cold(cold: dict[str, Any]) -> None:
    imp, first = cold["import"], cold["first_request"]
    say(f"\n{'cold start (median ms)':40} {'bare app':>10} {'onramp':>10} {'ratio':>7}")
    say(f"{'python -c pass':40} {imp['bare']['median_ms']:>10}")
    verdict = "ok" if imp["ratio"] <= IMPORT_GOAL else f"OVER the {IMPORT_GOAL} goal"
    say(f"{'import (process wall)':40} {imp['hello']['median_ms']:>10} {imp['app']['median_ms']:>10} "
        f"{imp['ratio']:>7}  {verdict}")
    say(f"{'import, net of interpreter start':40} {'':>10} {'':>10} {imp['ratio_net_of_interpreter']:>7}")
    for part in ("import_ms", "request_ms", "total_ms"):
        label = {"import_ms": "in-child import", "request_ms": "first request",
                 "total_ms": "import + first request"}[part]
        ratio = f"{first['ratio']:>7}" if part == "total_ms" else ""
        say(f"{label:40} {first['hello'][part]:>10} {first['app'][part]:>10} {ratio}")
    for label, rows in (("import app", imp["heaviest_packages"]),
                        ("import app + first request", first["heaviest_packages"])):
        say(f"heaviest packages, {label} (import self ms): " +
            ", ".join(f"{r['package']} {r['self_ms']}" for r in rows))


def print_spread(spread: dict[str, Any]) -> None:
    say(f"\nevents of one tenant after {spread['users']} user creations: {spread['events']} events over "
        f"{spread['partitions_used']}/{spread['shards']} partitions; busiest holds "
        f"{spread['busiest_partition_events']} ({spread['busiest_share']:.1%}, ideal {spread['ideal_share']:.1%}), "
        f"quietest {spread['quietest_partition_events']}")
    say(f"per partition: {spread['per_partition']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="cold start samples per app (median)")
    parser.add_argument("--users", type=int, default=200, help="users created for the event spread")
    parser.add_argument("--skip-cold", action="store_true", help="skip the subprocess cold start part")
    parser.add_argument("--rule-users", type=int, default=100_000,
                        help="users of the larger tenant of the rule back-fill figure (the smaller has 1,000)")
    parser.add_argument("--certificates", type=int, default=100_000,
                        help="certificates of the larger table of the reminder job figure (the smaller has 1,000)")
    parser.add_argument("--leads", type=int, default=100_000,
                        help="leads of the larger table of the claim-timeout job figure (the smaller has 1,000)")
    args = parser.parse_args(argv)

    from bench import coldstart, inprocess

    started = time.perf_counter()
    results: dict[str, Any] = {"python": platform.python_version(), "runs": args.runs,
                               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    stamp("[1/3] DynamoDB calls per route (in-process moto, chalice.test.Client)")
    results["dynamodb_calls"] = inprocess.route_costs(say)
    print_routes(results["dynamodb_calls"])

    stamp(f"\n[2/3] event partition spread ({args.users} users in one tenant)")
    results["event_spread"] = inprocess.event_spread(args.users, say)
    print_spread(results["event_spread"])

    from bench import lrs

    stamp("\n[LRS] statement batches, filtered pages, partition spread of 10,000 statements")
    results["lrs"] = lrs.measure(say)
    lrs.report(say, results["lrs"])

    from bench import courses

    stamp("\n[courses] catalog pages at 10 and 1,000 courses, launch and commits, fan-out of a new version")
    results["courses"] = courses.measure(say)
    courses.report(say, results["courses"])

    from bench import enrollment

    stamp(f"\n[enrollment] enroll, my enrollments, rule back-fill at 1,000 vs {args.rule_users:,} users")
    results["enrollment"] = enrollment.measure(say, (1000, args.rule_users))
    enrollment.report(say, results["enrollment"])

    from bench import certifications

    stamp(f"\n[certifications] reminder job at 1,000 vs {args.certificates:,} certificates, {certifications.DUE} due")
    results["certifications"] = certifications.measure(say, (1000, args.certificates))
    certifications.report(say, results["certifications"])

    from bench import partners

    stamp(f"\n[partners] requests per routed lead at 10 vs 1,000 partners; claim-timeout job at 1,000 vs "
          f"{args.leads:,} leads, {partners.DUE} due")
    results["partners"] = partners.measure(say, (1000, args.leads))
    partners.report(say, results["partners"])

    if not args.skip_cold:
        stamp(f"\n[3/3] cold start ({args.runs} fresh processes per app and figure)")
        results["cold_start"] = coldstart.measure(args.runs, say)
        print_cold(results["cold_start"])
        results["cold_start"]["import_goal"] = IMPORT_GOAL

    results["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    say(f"\nwrote {RESULTS.relative_to(env.ROOT)} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
