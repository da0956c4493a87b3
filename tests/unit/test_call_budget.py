"""DynamoDB call budgets per route: counted calls, not moto timings (PLATFORM_NOTES).

Each budget is the exact multiset of DynamoDB operations one typical successful request makes with the
tenant cache warm (a container that has served the tenant in the last `tenant_cache_seconds`). A route
that grows a read or a write fails here; if the extra call is justified, change the budget with a
comment saying why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from app import app
from tests.unit import callcount
from tests.unit.callcount import SCENARIOS, counting

GET, QUERY, TX, PUT, UPDATE = "GetItem", "Query", "TransactWriteItems", "PutItem", "UpdateItem"

BUDGETS: dict[str, dict[str, int]] = {
    # the budgets of the Foundation issue
    "GET /v1/tenants/{tenantId}": {GET: 1},
    "GET /v1/tenants/{tenantId}/users/{userId}": {GET: 1},
    "GET /v1/tenants/{tenantId}/users": {QUERY: 1},
    "GET /v1/tenants": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/clients": {QUERY: 1},
    "POST /v1/tenants": {TX: 1},
    "POST /v1/tenants/{tenantId}/users": {TX: 1},
    "PATCH /v1/tenants/{tenantId}/users/{userId}": {GET: 1, TX: 1},
    "POST /v1/tenants/{tenantId}/clients": {TX: 1},
    "POST /v1/oauth/token": {GET: 1},  # client_credentials of a tenant client: the client item
    "GET /v1/health": {GET: 1},
    # the other routes, as measured; each extra call is needed
    "GET /.well-known/jwks.json": {},  # Secrets Manager (cached 5 min), no table access
    "GET /openapi.json": {},
    "GET /docs": {},
    # read-modify-write with an optimistic version condition: read the item, write item + event
    "PATCH /v1/tenants/{tenantId}": {GET: 1, TX: 1},
    "POST /v1/tenants/{tenantId}/suspend": {GET: 1, TX: 1},
    "POST /v1/tenants/{tenantId}/resume": {GET: 1, TX: 1},
    "POST /v1/tenants/{tenantId}/users/{userId}/deactivate": {GET: 1, TX: 1},
    "POST /v1/tenants/{tenantId}/users/{userId}/reactivate": {GET: 1, TX: 1},
    "DELETE /v1/tenants/{tenantId}/clients/{clientId}": {GET: 1, TX: 1},
    # login: the email claim gives the user id, then the user item (two dependent reads)
    "POST /v1/tenants/{tenantId}/sessions": {GET: 2},
    # the owner (sandboxId, version) is read, then the sandbox, owner and event are written together
    "POST /v1/tenants/{tenantId}/sandbox": {GET: 1, TX: 1},
    # the sandbox id lives on the owner item (not in the authorisation cache): owner, then sandbox
    "GET /v1/tenants/{tenantId}/sandbox": {GET: 2},
    # owner and the old sandbox are read (both written conditionally), one transaction swaps them
    "POST /v1/tenants/{tenantId}/sandbox/reset": {GET: 2, TX: 1},
    # the LRS: credentials like API clients; statements written with their index copies in one
    # transaction (up to 100 operations), a filtered page read from one index partition
    "POST /v1/tenants/{tenantId}/xapi-credentials": {TX: 1},
    "GET /v1/tenants/{tenantId}/xapi-credentials": {QUERY: 1},
    "DELETE /v1/tenants/{tenantId}/xapi-credentials/{key}": {GET: 1, TX: 1},
    # forwarding settings: read first (a PUT without a secret keeps the stored one; the write is conditional on
    # the version read), then settings + event in one transaction; DELETE is a conditional delete + event
    "PUT /v1/tenants/{tenantId}/xapi-forwarding": {GET: 1, TX: 1},
    "GET /v1/tenants/{tenantId}/xapi-forwarding": {GET: 1},
    "DELETE /v1/tenants/{tenantId}/xapi-forwarding": {TX: 1},
    "GET /v1/tenants/{tenantId}/xapi/about": {},
    "PUT /v1/tenants/{tenantId}/xapi/statements": {TX: 1},
    "POST /v1/tenants/{tenantId}/xapi/statements": {TX: 1},
    "GET /v1/tenants/{tenantId}/xapi/statements": {QUERY: 1},
    # documents: read the current version (ETag, merge), then write on condition that it is unchanged
    **{f"{m} /v1/tenants/{{tenantId}}/xapi/{r}": {GET: 1, op: 1}
       for r in ("activities/state", "activities/profile", "agents/profile")
       for m, op in (("PUT", "PutItem"), ("POST", "PutItem"), ("DELETE", "DeleteItem"))},
    **{f"GET /v1/tenants/{{tenantId}}/xapi/{r}": {GET: 1}
       for r in ("activities/state", "activities/profile", "agents/profile")},
    "GET /v1/tenants/{tenantId}/xapi/activities": {GET: 1},  # the canonical definition
    "GET /v1/tenants/{tenantId}/xapi/agents": {},
    # courses. Required: a catalog page is one Query whatever the library's size (entries are materialised)
    "GET /v1/tenants/{tenantId}/catalog": {QUERY: 1},
    "POST /v1/tenants/{tenantId}/courses": {TX: 1},  # course + own catalog entry + event
    "GET /v1/tenants/{tenantId}/courses": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/courses/{courseId}": {GET: 1},  # the catalog entry
    # own course: the entry (own or someone else's?), the course (version check), one transaction (course,
    # entry, event); the reply is built from what was written (no read after the write)
    "PATCH /v1/tenants/{tenantId}/courses/{courseId}": {GET: 2, TX: 1},
    "GET /v1/tenants/{tenantId}/courses/{courseId}/versions": {GET: 1, QUERY: 1},  # the course: 404 if unknown
    "GET /v1/tenants/{tenantId}/courses/{courseId}/versions/{number}": {GET: 1},
    # course and draft are read (the retiring version is updated by key, no read); all written at once
    "POST /v1/tenants/{tenantId}/courses/{courseId}/versions/{number}/publish": {GET: 2, TX: 1},
    "POST /v1/tenants/{tenantId}/courses/{courseId}/versions/{number}/retire": {GET: 2, TX: 1},
    # the course must exist; the pending upload is one PutItem; the presigned POST is signed without a call
    "POST /v1/tenants/{tenantId}/courses/{courseId}/uploads": {GET: 1, PUT: 1},
    "GET /v1/tenants/{tenantId}/courses/{courseId}/uploads/{uploadId}": {GET: 1},
    # user imports: the import item (the presigned POST and the report URL are signed without a call)
    "POST /v1/tenants/{tenantId}/user-imports": {PUT: 1},
    "GET /v1/tenants/{tenantId}/user-imports": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/user-imports/{importId}": {GET: 1},
    # learning paths: the courses' catalog entries in one BatchGetItem; path, its members and the event in one
    # transaction
    "POST /v1/tenants/{tenantId}/paths": {"BatchGetItem": 1, TX: 1},
    "GET /v1/tenants/{tenantId}/paths": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/paths/{pathId}": {GET: 1},
    "PATCH /v1/tenants/{tenantId}/paths/{pathId}": {GET: 1, UPDATE: 1},  # the path (404), a conditional update
    # an admin asking: the path, then the learner's enrollments (one Query)
    "GET /v1/tenants/{tenantId}/users/{userId}/paths/{pathId}/progress": {GET: 1, QUERY: 1},
    # enrollments: user and catalog entry read, claim + enrollment + event in one transaction
    "POST /v1/tenants/{tenantId}/enrollments": {GET: 2, TX: 1},
    "GET /v1/tenants/{tenantId}/enrollments/{enrollmentId}": {GET: 1},
    "GET /v1/tenants/{tenantId}/enrollments": {QUERY: 1},
    "POST /v1/tenants/{tenantId}/enrollment-rules": {GET: 1, TX: 1},
    "GET /v1/tenants/{tenantId}/enrollment-rules": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/enrollment-rules/{ruleId}": {GET: 1},
    "PATCH /v1/tenants/{tenantId}/enrollment-rules/{ruleId}": {GET: 1, TX: 1},
    "DELETE /v1/tenants/{tenantId}/enrollment-rules/{ruleId}": {GET: 1, "DeleteItem": 1},
    "DELETE /v1/tenants/{tenantId}/enrollments/{enrollmentId}": {GET: 1, TX: 1},
    # an admin asking about another user: the user (an unknown user is a 404, as GET …/users/{userId}), one Query
    "GET /v1/tenants/{tenantId}/users/{userId}/enrollments": {GET: 1, QUERY: 1},
    "GET /v1/tenants/{tenantId}/me/enrollments": {QUERY: 1},
    # a first attempt: enrollment, catalog entry (the latest version), version, learner; then one transaction
    "POST /v1/tenants/{tenantId}/enrollments/{enrollmentId}/attempts": {GET: 4, TX: 1},
    "GET /v1/tenants/{tenantId}/attempts/{attemptId}": {GET: 1},
    # Required: the player page is at most the attempt and the tenant (branding); its tokens are HMACs
    "GET /v1/tenants/{tenantId}/attempts/{attemptId}/launch": {GET: 2},
    # cmi5: launching an AU reads the attempt, writes LMS.LaunchData (read first: the document write is
    # conditional on its current version) and stores the "launched" statement (one transaction with its index
    # copies). The document read could go (the LMS replaces LaunchData whatever it held). The statement
    # defines its activity (the AU): 1 BatchGetItem of the activity's canonical definition, and 1 more
    # transaction when the definition changes it (the first launch; later launches only read).
    "GET /v1/tenants/{tenantId}/attempts/{attemptId}/cmi5/launch": {GET: 2, PUT: 1, TX: 2, "BatchGetItem": 1},
    # the fetch token is an HMAC: its one use (a marker) and the session's LRS credential in one transaction
    "POST /v1/tenants/{tenantId}/attempts/{attemptId}/cmi5/fetch": {TX: 1},
    # Required: a runtime commit that does not complete the attempt is exactly one UpdateItem
    "PUT /v1/tenants/{tenantId}/attempts/{attemptId}/runtime": {UPDATE: 1},
    "POST /v1/tenants/{tenantId}/attempts/{attemptId}/runtime": {UPDATE: 1},
    # course files and public assets come from S3 alone (S3_BUDGETS)
    **{f"GET {root}" + "".join(f"/{{p{i}}}" for i in range(1, depth + 1)): {}
       for root in ("/play/{token}", "/content") for depth in range(1, 9)},
    # the shared library: as a tenant's own courses
    "POST /v1/library/courses": {TX: 1},  # course + slug claim + event
    "GET /v1/library/courses": {QUERY: 1},
    "GET /v1/library/courses/{courseId}": {GET: 1},
    "PATCH /v1/library/courses/{courseId}": {GET: 1, TX: 1},  # tenants' entries follow through the stream
    "GET /v1/library/courses/{courseId}/versions": {GET: 1, QUERY: 1},
    "POST /v1/library/courses/{courseId}/versions/{number}/publish": {GET: 2, TX: 1},  # a first version: none retires
    "POST /v1/library/courses/{courseId}/uploads": {GET: 1, PUT: 1},
    "GET /v1/library/courses/{courseId}/uploads/{uploadId}": {GET: 1},
    # the course; the grantee from the tenant cache; grant + event, then the grantee's catalog entry (a
    # partner's customers get theirs through the stream)
    "POST /v1/library/courses/{courseId}/grants": {GET: 1, TX: 1, PUT: 1},
    "POST /v1/library/packages/{package}/grants": {TX: 1, QUERY: 1},  # + 1 GetItem and 1 PutItem per member
    "GET /v1/library/packages/{package}": {QUERY: 1},
    # CRM integrations: settings are read-modify-write (version condition) with an event
    "PUT /v1/tenants/{tenantId}/integrations/salesforce": {GET: 1, TX: 1},
    "GET /v1/tenants/{tenantId}/integrations/salesforce": {GET: 1},
    "PUT /v1/tenants/{tenantId}/integrations/hubspot": {GET: 1, TX: 1},
    "GET /v1/tenants/{tenantId}/integrations/hubspot": {GET: 1},
    # inbound, per request: the settings (1 GetItem), the events' claims and records (1 BatchGetItem for the
    # whole request); per record: the user by email (the claim; a miss here), the user's transaction, then
    # the record and its events' claims in one transaction. A replay is the GetItem and the BatchGetItem alone.
    "POST /v1/tenants/{tenantId}/integrations/salesforce/outbound-messages": {GET: 2, "BatchGetItem": 1, TX: 2},
    "POST /v1/tenants/{tenantId}/integrations/hubspot/webhooks": {GET: 2, "BatchGetItem": 1, TX: 2},
    # SCIM 2.0 (docs/scim.md), with a SCIM token whose check is cached (a cold one adds 1 GetItem). Tokens cost what
    # LRS credentials cost; discovery is static
    "POST /v1/tenants/{tenantId}/scim-tokens": {TX: 1},
    "GET /v1/tenants/{tenantId}/scim-tokens": {QUERY: 1},
    "DELETE /v1/tenants/{tenantId}/scim-tokens/{tokenId}": {GET: 1, TX: 1},
    "GET /v1/tenants/{tenantId}/scim/v2/ServiceProviderConfig": {},
    "GET /v1/tenants/{tenantId}/scim/v2/ResourceTypes": {},
    "GET /v1/tenants/{tenantId}/scim/v2/ResourceTypes/{resourceType}": {},
    "GET /v1/tenants/{tenantId}/scim/v2/Schemas": {},
    "GET /v1/tenants/{tenantId}/scim/v2/Schemas/{schemaId}": {},
    # a user is created as POST …/users is (user, claims, index entries, event in one transaction)
    "POST /v1/tenants/{tenantId}/scim/v2/Users": {TX: 1},
    # filter userName eq: the username claim, then the user
    "GET /v1/tenants/{tenantId}/scim/v2/Users": {GET: 2},
    "GET /v1/tenants/{tenantId}/scim/v2/Users/{userId}": {GET: 1},
    # the user is read for If-Match and the patch, then users.service reads it again for its versioned write
    "PUT /v1/tenants/{tenantId}/scim/v2/Users/{userId}": {GET: 2, TX: 1},
    "PATCH /v1/tenants/{tenantId}/scim/v2/Users/{userId}": {GET: 2, TX: 1},
    "DELETE /v1/tenants/{tenantId}/scim/v2/Users/{userId}": {GET: 2, TX: 1},
    # the new members in one BatchGetItem, the group + name claim + event, then each member's user write
    "POST /v1/tenants/{tenantId}/scim/v2/Groups": {"BatchGetItem": 1, TX: 2, GET: 1},
    # filter displayName eq: the name claim, the group, its members (one Query of the group's index partition)
    "GET /v1/tenants/{tenantId}/scim/v2/Groups": {GET: 2, QUERY: 1},
    "GET /v1/tenants/{tenantId}/scim/v2/Groups/{groupId}": {GET: 1, QUERY: 1},
    "PUT /v1/tenants/{tenantId}/scim/v2/Groups/{groupId}": {GET: 1, QUERY: 1, TX: 1},
    # the group's version moves with its members (its ETag), and the member's user write
    "PATCH /v1/tenants/{tenantId}/scim/v2/Groups/{groupId}": {GET: 2, QUERY: 1, TX: 2},
    "DELETE /v1/tenants/{tenantId}/scim/v2/Groups/{groupId}": {GET: 1, QUERY: 1, TX: 1},
    # an unknown endpoint under the SCIM base: a SCIM 404, nothing read
    **{f"{m} /v1/tenants/{{tenantId}}/scim/v2/{{resource}}": {} for m in ("GET", "POST", "PUT", "PATCH", "DELETE")},
    # a certificate's PDF, first download: the certificate, the tenant's brand, then pdf_key/pdf_version recorded
    # (conditional on the version rendered). Once stored, a download is the certificate's GetItem alone
    # (test_certificate_pdf.py). A manager's download adds the report's user item (the row rule).
    "GET /v1/tenants/{tenantId}/certificates/{certificateId}/pdf": {GET: 2, UPDATE: 1},
    # public verification: the id's locator (which tenant), then certificate + tenant in one BatchGetItem
    "GET /v1/verify/{certificateId}": {GET: 1, "BatchGetItem": 1},
    "GET /verify/{certificateId}": {GET: 1, "BatchGetItem": 1},
    # certification programs: targets checked (catalog entries, paths) with the tenant's default reminders in one
    # BatchGetItem, then program + one target item per course + event in one transaction
    "POST /v1/tenants/{tenantId}/certifications": {"BatchGetItem": 1, TX: 1},
    # the tenant's own programs, the library's shared ones, and (when there are shared ones) whether they apply
    # (the tenant's catalog entries of their courses) with the tenant's counts, in one BatchGetItem
    "GET /v1/tenants/{tenantId}/certifications": {QUERY: 2, "BatchGetItem": 1},
    "GET /v1/tenants/{tenantId}/certifications/{certificationId}": {GET: 1},  # counts by status included
    "PATCH /v1/tenants/{tenantId}/certifications/{certificationId}": {GET: 1, UPDATE: 1},  # targets unchanged
    # shared (operator) programs: library courses checked in one BatchGetItem, as a tenant's own programs
    "POST /v1/library/certifications": {"BatchGetItem": 1, TX: 1},
    "GET /v1/library/certifications": {QUERY: 1},
    "GET /v1/library/certifications/{certificationId}": {GET: 1},
    "PATCH /v1/library/certifications/{certificationId}": {GET: 1, UPDATE: 1},
    # an admin naming a user: the user (an unknown one is a 404), then one Query of the user's certificates
    "GET /v1/tenants/{tenantId}/users/{userId}/certificates": {GET: 1, QUERY: 1},
    "GET /v1/tenants/{tenantId}/certificates/{certificateId}": {GET: 1},
    # the certificate (its status and version), then certificate + program counts + event, conditional on the version
    "POST /v1/tenants/{tenantId}/certificates/{certificateId}/revoke": {GET: 1, TX: 1},
    # the tenant's certificates by program (the claims' GSI1), their current state in BatchGetItems of 100
    "GET /v1/tenants/{tenantId}/certificates/export": {QUERY: 1, "BatchGetItem": 1},
    # a background export's status: its item (a completed one's URL is signed locally)
    "GET /v1/tenants/{tenantId}/certificates/exports/{exportId}": {GET: 1},
    # partner program (docs/partners.md): the tiers item (absent: the defaults); a change reads its version, then
    # writes item + event conditionally; a tier assignment reads the tiers and the partner, then tenant + event;
    # a quote is a calculation: partner + tiers in one BatchGetItem, nothing written
    "GET /v1/partner-tiers": {GET: 1},
    "PUT /v1/partner-tiers": {GET: 1, TX: 1},
    "PUT /v1/partners/{partnerId}/tier": {GET: 2, TX: 1},
    "POST /v1/partners/{partnerId}/quotes": {"BatchGetItem": 1},
    # lead routing (docs/partners.md, Lead routing): routing a lead is settings + tiers in one BatchGetItem, the
    # pool of routing cards in one Query and one transaction, whatever the number of partners; a claim reads the
    # lead and commits one conditional transaction; a decline re-routes like a create
    "GET /v1/lead-routing": {GET: 1},
    "PUT /v1/lead-routing": {GET: 2, TX: 1},
    "PUT /v1/partners/{partnerId}/routing-profile": {"BatchGetItem": 1, TX: 1, GET: 1},
    "GET /v1/partners/{partnerId}/routing-profile": {"BatchGetItem": 1},
    "POST /v1/leads": {"BatchGetItem": 1, QUERY: 1, TX: 1},
    "GET /v1/leads": {QUERY: 1},
    "GET /v1/leads/{leadId}": {GET: 1},
    "GET /v1/leads/{leadId}/routing": {QUERY: 1},
    "GET /v1/partners/{partnerId}/leads": {QUERY: 1},
    "POST /v1/partners/{partnerId}/leads/{leadId}/claim": {GET: 1, TX: 1},
    "POST /v1/partners/{partnerId}/leads/{leadId}/decline": {"BatchGetItem": 1, QUERY: 1, TX: 1},
    "POST /v1/partners/{partnerId}/leads/{leadId}/outcome": {GET: 1, TX: 1},
    # co-branding (docs/partners.md): a draft save reads the revision, then draft + audit entry in one conditional
    # transaction; a submit reads the draft, then version + draft + audit + event; approving reads version and
    # partner tenant in one BatchGetItem and writes version, live kit (on the tenant), audit and event at once;
    # effective branding is the tenant item alone (the live kit rides on it)
    "PUT /v1/partners/{partnerId}/brand-kit/draft": {GET: 1, TX: 1},
    "GET /v1/partners/{partnerId}/brand-kit/draft": {GET: 1},
    "POST /v1/partners/{partnerId}/brand-kit/draft/submit": {GET: 1, TX: 1},
    "GET /v1/partners/{partnerId}/brand-kits": {QUERY: 1},
    "GET /v1/partners/{partnerId}/brand-kits/{version}": {GET: 1},
    "POST /v1/partners/{partnerId}/brand-kits/{version}/approve": {"BatchGetItem": 1, TX: 1},
    "POST /v1/partners/{partnerId}/brand-kits/{version}/request-changes": {GET: 1, TX: 1},
    "GET /v1/partners/{partnerId}/brand-kit/audit": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/branding": {GET: 1},
    # SLAs (docs/partners.md): opening a case reads the partner's calendar and the policy at once (the partner
    # comes from the tenant cache) and writes case, two due entries and the event together; a response or the
    # resolution reads the case, then writes conditionally on its clocks; lists and a case are one Query each
    "GET /v1/partners/{partnerId}/sla-calendar": {"BatchGetItem": 1},
    "PUT /v1/partners/{partnerId}/sla-calendar": {TX: 1},
    "GET /v1/sla-policy": {GET: 1},
    "PUT /v1/sla-policy": {TX: 1},
    "POST /v1/tenants/{tenantId}/support-cases": {"BatchGetItem": 1, TX: 1},
    "GET /v1/tenants/{tenantId}/support-cases": {QUERY: 1},
    "GET /v1/tenants/{tenantId}/support-cases/{caseId}": {QUERY: 1},
    "POST /v1/tenants/{tenantId}/support-cases/{caseId}/responses": {GET: 1, TX: 1},
    "POST /v1/tenants/{tenantId}/support-cases/{caseId}/resolve": {GET: 1, TX: 1},
    "GET /v1/partners/{partnerId}/support-cases": {QUERY: 1},
    "PUT /v1/partners/{partnerId}/uptime/{month}": {TX: 1},
    "GET /v1/partners/{partnerId}/uptime": {QUERY: 1},
    # scorecards and onboarding (docs/partners.md): a scorecard, a plan, the thresholds are one item each; the list
    # one Query; completing reads the plan and writes plan + event conditionally; computing one partner's card is
    # one BatchGetItem of its items and the settings, the routing settings, the sources' Queries (lead figures:
    # 2 per window, SLA figures: 2 per window; quarter + trailing four quarters), card + event in one transaction
    "GET /v1/scorecard-thresholds": {GET: 1},
    "PUT /v1/scorecard-thresholds": {GET: 1, TX: 1},
    "PUT /v1/partners/{partnerId}/kpi-inputs/{quarter}": {TX: 1},
    "POST /v1/partners/{partnerId}/scorecards/{quarter}/compute": {"BatchGetItem": 1, GET: 1, QUERY: 8, TX: 1},
    "GET /v1/partners/{partnerId}/scorecards/{quarter}": {GET: 1},
    "GET /v1/partners/{partnerId}/scorecards": {QUERY: 1},
    "GET /v1/partners/{partnerId}/onboarding": {GET: 1},
    "POST /v1/partners/{partnerId}/onboarding/milestones/{milestoneId}/complete": {GET: 1, TX: 1},
    "POST /v1/partners/{partnerId}/onboarding/deliverables/{deliverableId}/complete": {GET: 1, TX: 1},
}

# S3 calls of the routes that make any (the others make none): a file is one GetObject; creating an upload
# returns a presigned POST, signed locally
S3_BUDGETS: dict[str, dict[str, int]] = {
    **{f"GET {root}" + "".join(f"/{{p{i}}}" for i in range(1, depth + 1)): {"GetObject": 1}
       for root in ("/play/{token}", "/content") for depth in range(1, 9)},
    "POST /v1/tenants/{tenantId}/courses/{courseId}/uploads": {},
    "POST /v1/library/courses/{courseId}/uploads": {},
    "POST /v1/tenants/{tenantId}/user-imports": {},
    "GET /v1/tenants/{tenantId}/user-imports/{importId}": {},
    # first download: the tenant's logo from content/ (when it is there), the PDF written; later ones: none (signed)
    "GET /v1/tenants/{tenantId}/certificates/{certificateId}/pdf": {"GetObject": 1, "PutObject": 1},
}


_DELIBERATE = Counter[str]()  # the counter's own self-test scans on purpose


@pytest.fixture(scope="module", autouse=True)
def _never_a_scan() -> Iterator[None]:
    """No request in this module may Scan: checked on every DynamoDB call the module made."""
    before = callcount.dynamodb_ledger()
    yield
    scans = callcount.dynamodb_ledger()["Scan"] - before["Scan"] - _DELIBERATE["Scan"]
    assert scans == 0, f"{scans} DynamoDB Scan(s) were made while the call-budget tests ran"


@pytest.fixture()
def costs(api: Any) -> dict[str, callcount.Cost]:
    return callcount.route_costs(api)


def _routes() -> set[str]:
    return {f"{m} {p}" for p, methods in app.routes.items() for m in methods if m != "HEAD"}


def test_the_counter_sees_pynamodb_and_boto3_calls(aws: None) -> None:
    """pynamodb's own connection (made before the counter, kept on the Item class) and the boto3
    clients of chalicelib.aws are both counted, including a Scan (so `never a Scan` can fail)."""
    from chalicelib import aws as clients
    from chalicelib.config import settings
    from chalicelib.store import keys
    from chalicelib.store.models import Item, Tenant

    Item._get_connection()  # the class-level connection exists before counting starts
    scans_before = callcount.LEDGER[("dynamodb", "Scan")]
    with counting() as calls:
        with pytest.raises(Tenant.DoesNotExist):
            Tenant.get(keys.tenant_pk("nobody"), keys.TENANT_SK)
        list(Tenant.gsi2.query(keys.all_tenants_gsi2pk()))
        list(Item.scan(limit=1))
        _DELIBERATE["Scan"] += 1
        clients.dynamodb().get_item(TableName=settings().table_name,
                                    Key={"PK": {"S": keys.health_pk()}, "SK": {"S": "HEALTH"}})
    assert calls.dynamodb == Counter({"GetItem": 2, "Query": 1, "Scan": 1})
    assert callcount.LEDGER[("dynamodb", "Scan")] == scans_before + 1  # the session ledger sees it too


def test_every_route_has_a_cost_scenario() -> None:
    measured = {f"{s.method} {s.path}" for s in SCENARIOS}
    assert not sorted(_routes() - measured), (
        f"routes without a cost scenario in tests/unit/callcount.py: {sorted(_routes() - measured)}")
    assert not sorted(measured - _routes()), f"scenarios for unknown routes: {sorted(measured - _routes())}"


def test_every_route_has_a_budget() -> None:
    assert not sorted(_routes() - BUDGETS.keys()), f"routes without a budget: {sorted(_routes() - BUDGETS.keys())}"


def test_routes_stay_within_their_budgets(costs: dict[str, callcount.Cost]) -> None:
    over = {route: dict(cost.dynamodb) for route, cost in costs.items()
            if route in BUDGETS and cost.dynamodb != Counter(BUDGETS[route])}
    assert not over, "DynamoDB calls differ from the budget: " + "; ".join(
        f"{route}: {calls} (budget {BUDGETS[route]})" for route, calls in sorted(over.items()))
    assert not [r for r, c in costs.items() if c.dynamodb["Scan"]], "a route made a Scan"
    s3 = {route: dict(cost.s3) for route, cost in costs.items() if cost.s3 != Counter(S3_BUDGETS.get(route, {}))}
    assert not s3, "S3 calls differ from the budget: " + "; ".join(
        f"{route}: {calls} (budget {S3_BUDGETS.get(route, {})})" for route, calls in sorted(s3.items()))


def _count(api: Any, method: str, path: str, token: str | None, body: Any = None) -> Counter[str]:
    with counting() as calls:
        resp = api.call(method, path, token, body)
    assert 200 <= resp.status_code < 300, (method, path, resp.status_code, resp.body)
    return calls.dynamodb


def test_list_variants_are_one_query_each(api: Any) -> None:
    """Filters and later pages are still one Query (a filter never becomes a Scan or a FilterExpression)."""
    world = callcount.build_world(api)
    tid, admin = world.tenant["id"], world.admin
    manager = api.make_user(tid, roles=["manager"], email="boss@example.com")
    for n in range(3):
        api.make_user(tid, email=f"report{n}@example.com", managerId=manager["id"])
    partner_admin = api.tenant_admin(world.partner["id"])
    world.prime()
    first = api.call("GET", f"/v1/tenants/{tid}/users?limit=2", admin)
    cursor = api.json(first)["nextCursor"]
    assert cursor
    one_query = Counter({QUERY: 1})
    for path, token in ((f"/v1/tenants/{tid}/users?limit=2&cursor={cursor}", admin),
                        (f"/v1/tenants/{tid}/users?managerId={manager['id']}", admin),
                        (f"/v1/tenants/{tid}/users?emailPrefix=report", admin),
                        ("/v1/tenants", partner_admin),  # a partner's customers: GSI1
                        (f"/v1/tenants?parentTenantId={world.partner['id']}", world.operator)):
        assert _count(api, "GET", path, token) == one_query, path


def test_reads_by_partner_admin_and_client_tokens_cost_the_same(api: Any) -> None:
    world = callcount.build_world(api)
    tid = world.tenant["id"]
    partner_admin = api.tenant_admin(world.partner["id"])
    client_token = api.json(api.token_for_client(world.client_id, world.client_secret))["access_token"]
    world.prime()
    for token in (partner_admin, client_token, world.operator):
        assert _count(api, "GET", f"/v1/tenants/{tid}", token) == Counter({GET: 1})
        assert _count(api, "GET", f"/v1/tenants/{tid}/users/{world.user['id']}", token) == Counter({GET: 1})


def test_cold_tenant_cache_costs_one_more_read(api: Any) -> None:
    # A new container first loads the caller's tenant record into the authorisation cache (one GetItem),
    # then the route reads the tenant itself. The cache keeps only status/kind/hierarchy, so the second
    # read is not a waste on the warm path, and it is one extra read per tenant per cache period.
    assert callcount.cold_get_tenant(api) == Counter({GET: 2})


def test_a_rejected_cross_tenant_request_costs_no_table_read(api: Any) -> None:
    """With the cache warm, a 404 for another tenant's path is decided without touching the table."""
    world = callcount.build_world(api)
    other = api.make_tenant()
    other_admin = api.tenant_admin(other["id"])
    world.prime()
    from chalicelib.tenancy import cache

    cache.tenant_record(other["id"])
    with counting() as calls:
        resp = api.call("GET", f"/v1/tenants/{world.tenant['id']}/users", other_admin)
    assert resp.status_code == 404
    assert calls.dynamodb == Counter()
