"""LRS figures for `make bench`: requests per statement batch, per filtered GET page, and how one
tenant's statement writes spread over partitions."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

from bench.inprocess import Say, quiet, stack

VERBS = ("completed", "attempted", "experienced", "passed", "failed")


def workload(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Statements of one tenant: 500 learners, 40 courses of 8 modules, a registration per learner and
    course, a role-play tool; module statements carry their course as the parent activity."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        learner, course, module = rng.randrange(500), rng.randrange(40), rng.randrange(8)
        tool = rng.random() < 0.2
        target = "http://onramp.example/tools/roleplay" if tool else f"http://onramp.example/c{course}/m{module}"
        out.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": {"mbox": f"mailto:learner{learner}@example.com"},
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{rng.choice(VERBS)}"},
            "object": {"id": target},
            "context": {"registration": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{learner}/{course}")),
                        "contextActivities": {"parent": [{"id": f"http://onramp.example/c{course}"}]}},
        })
    return out


def partition_spread(n: int) -> dict[str, Any]:
    """The items the write path builds for n statements (`lrs.statements._records`, no AWS calls), by PK."""
    from chalicelib.auth.principal import Principal, TenantContext
    from chalicelib.lrs import statements

    principal = Principal("lrs:lk-bench", "tn-bench", frozenset({"lrs"}), frozenset(), kind="lrs")
    ctx = TenantContext("tn-bench", principal, "own")
    writes: Counter[str] = Counter()
    for doc in workload(n):
        prepared = statements.prepare(ctx, doc, "2026-11-23T12:00:00.000Z")
        writes.update(r.PK for r in statements._records("tn-bench", prepared))
    kinds: Counter[str] = Counter()
    busiest: dict[str, int] = {}
    for pk, count in writes.items():
        kind = pk.split("#")[2] + ("#" + pk.split("#")[3] if pk.split("#")[2] == "SIDX" else "")
        kinds[kind] += 1
        busiest[kind] = max(busiest.get(kind, 0), count)
    top_pk, top = writes.most_common(1)[0]
    return {"statements": n, "items": sum(writes.values()), "partitions": len(writes),
            "busiest_partition": top_pk.split("#", 2)[2].rsplit("#", 1)[0], "busiest_writes": top,
            "busiest_share": round(top / n, 4), "goal_share": round(1 / 16, 4),
            "busiest_share_by_kind": {k: round(v / n, 4) for k, v in sorted(busiest.items())},
            "partitions_by_kind": dict(sorted(kinds.items()))}


def requests(say: Say) -> dict[str, Any]:
    from tests.unit.callcount import counting
    from tests.unit.lrs_helpers import make_lrs

    out: dict[str, Any] = {"batches": {}, "pages": {}}
    with stack() as api, quiet():
        lrs = make_lrs(api)
        docs = workload(300, seed=11)
        lrs.request("GET", "/statements?limit=1")  # warm the tenant and credential caches
        for size in (1, 10, 100):
            batch = docs[:size]
            docs = docs[size:]
            with counting() as calls:
                resp = lrs.request("POST", "/statements", batch)
            assert resp.status_code == 200, resp.body
            out["batches"][size] = {"calls": dict(calls.dynamodb), "total": len(calls.calls),
                                    "goal": math.ceil(size / 100) + 1}
        agent = quote(json.dumps({"mbox": "mailto:learner1@example.com"}))
        pages = {"agent": f"?agent={agent}&limit=10", "agent+activity": f"?agent={agent}&activity=" + quote("http://onramp.example/c1"),
                 "activity": "?activity=" + quote("http://onramp.example/c1/m1"),
                 "registration": "?registration=" + str(uuid.uuid5(uuid.NAMESPACE_URL, "1/1")),
                 "agent+verb": f"?agent={agent}&verb=" + quote("http://adlnet.gov/expapi/verbs/completed"),
                 "verb": "?verb=" + quote("http://adlnet.gov/expapi/verbs/completed") + "&limit=10",
                 "unfiltered": "?limit=10"}
        for name, query in pages.items():
            lrs.request("GET", "/statements?limit=1&since=2999-01-01T00:00:00Z")  # caches warm, as in a busy container
            with counting() as calls:
                resp = lrs.request("GET", "/statements" + query)
            assert resp.status_code == 200, resp.body
            out["pages"][name] = dict(calls.dynamodb)
    return out


def measure(say: Say, n: int = 10_000) -> dict[str, Any]:
    result = requests(say)
    result["spread"] = partition_spread(n)
    return result


def report(say: Say, result: dict[str, Any]) -> None:
    say(f"\n{'statement batch':22} {'DynamoDB calls':40} {'requests':>8} {'goal':>5}")
    for size, row in result["batches"].items():
        calls = ", ".join(f"{v} {k}" for k, v in row["calls"].items())
        say(f"{'POST ' + str(size):22} {calls:40} {row['total']:>8} {row['goal']:>5}")
    say(f"\n{'filtered GET page':22} DynamoDB calls (goal: 1)")
    for name, calls in result["pages"].items():
        say(f"{name:22} " + ", ".join(f"{v} {k}" for k, v in calls.items()))
    s = result["spread"]
    say(f"\n{s['statements']} statements of one tenant -> {s['items']} items over {s['partitions']} partitions; "
        f"busiest {s['busiest_partition']} takes {s['busiest_writes']} writes = {s['busiest_share']:.1%} of the "
        f"statements (goal {s['goal_share']:.1%})")
    say("busiest share by partition kind: " + ", ".join(
        f"{k} {v:.1%}" for k, v in s["busiest_share_by_kind"].items()))
