"""Enrollment figures for `make bench`: requests per enroll and per "my enrollments" page, and the requests a
rule's back-fill makes in a tenant of 1,000 and of 100,000 users with the same number of matching users."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.inprocess import Say, ops, quiet, stack

MATCHES = 200


def _users(tenant: str, total: int, matching: int) -> None:
    """`total` users, `matching` of them in region EMEA (the others in NA), written directly with their index
    entries as the users service writes them (the cost measured is the back-fill, not the set-up)."""
    from chalicelib.store import keys
    from chalicelib.store.models import User
    from chalicelib.users.service import index_entries

    with User.batch_write() as batch:
        for i in range(total):
            user = User(id=f"us-bench-{i:06d}", tenant_id=tenant, email=f"rep{i}@bench.example",
                        display_name=f"Rep {i}", roles=["learner"], status="active", sales_role="AE",
                        region="EMEA" if i < matching else "NA", created_at="2026-01-01T00:00:00.000Z",
                        updated_at="2026-01-01T00:00:00.000Z")
            user.PK, user.SK = keys.user_pk(tenant, user.id), keys.USER_SK
            user.GSI1PK, user.GSI1SK = keys.users_gsi1pk(tenant), keys.user_email_sk(user.email)
            batch.save(user)
            for entry in index_entries(user).values():
                batch.save(entry)


def _backfill(api: Any, total: int) -> dict[str, Any]:
    from chalicelib.enrollment import rules
    from tests.unit.callcount import counting
    from tests.unit.course_helpers import published_course

    tenant = api.make_tenant()["id"]
    admin = api.tenant_admin(tenant)
    course_id = published_course(api, tenant, admin, "Onboarding")
    _users(tenant, total, MATCHES)
    rule = api.json(api.call("POST", f"/v1/tenants/{tenant}/enrollment-rules", admin, {
        "name": "EMEA onboarding", "courseId": course_id,
        "conditions": [{"attribute": "region", "op": "eq", "value": "EMEA"},
                       {"attribute": "salesRole", "op": "eq", "value": "AE"}]}))
    step, calls = 0, Counter[str]()
    while True:  # the steps the stream would carry, one chunk each
        with counting() as chunk:
            rules.run_backfill_step(tenant, rule["id"], 1, step)
        calls.update(chunk.dynamodb)
        if rules.load_rule(tenant, rule["id"]).backfill["status"] == "done":  # the harness's read: not counted
            break
        step += 1
    done = api.json(api.call("GET", f"/v1/tenants/{tenant}/enrollment-rules/{rule['id']}", admin))["backfill"]
    assert done["enrolled"] == MATCHES, done
    return {"users": total, "matches": MATCHES, "chunks": done["chunks"], "calls": dict(calls),
            "requests": sum(calls.values())}


def _enroll_and_page(api: Any) -> dict[str, Any]:
    from tests.unit.callcount import counting
    from tests.unit.course_helpers import published_course

    tenant = api.make_tenant()["id"]
    admin = api.tenant_admin(tenant)
    learner, token = api.user_token(tenant, ["learner"])
    course_id = published_course(api, tenant, admin, "Enroll")
    api.call("GET", f"/v1/tenants/{tenant}/me/enrollments", token)  # warm the tenant cache
    with counting() as enroll:
        resp = api.call("POST", f"/v1/tenants/{tenant}/enrollments", admin,
                        {"userId": learner["id"], "courseId": course_id})
    assert resp.status_code == 201, resp.body
    with counting() as page:
        resp = api.call("GET", f"/v1/tenants/{tenant}/me/enrollments?limit=100", token)
    assert resp.status_code == 200, resp.body
    return {"enroll": dict(enroll.dynamodb), "my_enrollments_page": dict(page.dynamodb)}


def measure(say: Say, sizes: tuple[int, ...] = (1000, 100_000)) -> dict[str, Any]:
    out: dict[str, Any] = {"backfill": []}
    with stack() as api, quiet():
        out.update(_enroll_and_page(api))
        for total in sizes:
            out["backfill"].append(_backfill(api, total))
            say(f"    back-fill measured at {total} users")
    return out


def report(say: Say, result: dict[str, Any]) -> None:
    say(f"\n{'enrollment':46} DynamoDB calls")
    say(f"{'enroll (goal: 1 transaction)':46} {ops(result['enroll'])}")
    say(f"{'my enrollments page (goal: 1)':46} {ops(result['my_enrollments_page'])}")
    for row in result["backfill"]:
        label = f"rule back-fill, {row['users']:,} users, {row['matches']} match"
        say(f"{label:46} {row['requests']} requests in {row['chunks']} chunks: {ops(row['calls'])}")
    counts = {row["requests"] for row in result["backfill"]}
    say("back-fill requests independent of tenant size: " + ("yes" if len(counts) == 1 else f"NO {sorted(counts)}"))
