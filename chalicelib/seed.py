"""The demo data `make run` (and `onramp seed`) puts into a fresh stack, idempotently.

Everything is created through the real services (tenancy, users) as the operator, exactly as the API
would; each item is looked up first (tenants by slug, users by email) so a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "onramp-demo-password"  # noqa: S105 - a published demo password for a local stack


@dataclass(frozen=True)
class DemoTenant:
    key: str
    name: str
    slug: str
    template: str
    parent: str | None = None  # key of the partner that owns it


@dataclass(frozen=True)
class DemoUser:
    tenant: str  # key of a DemoTenant
    email: str
    name: str
    roles: tuple[str, ...]
    manager: str | None = None  # email of the manager, same tenant
    sales_role: str | None = None


TENANTS: tuple[DemoTenant, ...] = (
    DemoTenant("acme", "Acme Software", "acme-software", "sales-team"),
    DemoTenant("globex", "Globex Pharma", "globex-pharma", "regulated-sales"),
    DemoTenant("northwind", "Northwind Partners", "northwind-partners", "reseller"),
    DemoTenant("initech", "Initech", "initech", "sales-team", parent="northwind"),
    DemoTenant("contoso", "Contoso Channel", "contoso-channel", "reseller"),
)

USERS: tuple[DemoUser, ...] = (
    DemoUser("acme", "admin@acme.example", "Ada Admin", ("admin",)),
    DemoUser("acme", "manager@acme.example", "Max Manager", ("manager", "learner"), sales_role="Sales Manager"),
    DemoUser("acme", "learner@acme.example", "Lea Learner", ("learner",), manager="manager@acme.example",
             sales_role="Account Executive"),
    DemoUser("acme", "sdr@acme.example", "Sam Rep", ("learner",), manager="manager@acme.example",
             sales_role="Sales Development Rep"),
    DemoUser("globex", "admin@globex.example", "Gloria Admin", ("admin",)),
    DemoUser("globex", "learner@globex.example", "Gus Learner", ("learner",), sales_role="Medical Rep"),
    DemoUser("northwind", "admin@northwind.example", "Nora Partner", ("admin",)),
    DemoUser("initech", "admin@initech.example", "Ian Admin", ("admin",)),
    DemoUser("initech", "learner@initech.example", "Ivy Learner", ("learner",), sales_role="Account Executive"),
    DemoUser("contoso", "admin@contoso.example", "Carl Channel", ("admin",)),
)


@dataclass(frozen=True)
class Entry:
    kind: str  # tenant | user
    label: str  # slug or email
    id: str
    created: bool
    tenant_id: str
    detail: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class Report:
    entries: list[Entry] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for e in self.entries if e.created)

    @property
    def existing(self) -> int:
        return sum(1 for e in self.entries if not e.created)

    def tenants(self) -> dict[str, Entry]:
        return {e.label: e for e in self.entries if e.kind == "tenant"}

    def summary(self) -> str:
        return f"{self.created} created, {self.existing} already there"


# The starter courses (content_bucket/courses) in the shared library, granted to these demo tenants,
# and a demo learner enrolled in the first, ready to play.
COURSE_GRANTEES = ("acme", "globex", "northwind", "initech")
DEMO_ENROLLMENTS = (("learner@acme.example", "prospecting-101"), ("learner@acme.example", "closing-techniques"))
# An automatic enrollment rule: every Account Executive of the tenant gets the course, whichever way they arrive
# (API, SCIM, CRM, CSV import).
DEMO_RULES = (("acme", "Account Executives: Prospecting 101", "Account Executive", "prospecting-101"),)
# A certification: complete Prospecting 101 (score >= 70) -> a certificate valid a year, renewed by taking it again.
DEMO_PROGRAMS = (("acme", "Certified Prospector", "prospecting-101"),)
# The partner program (docs/partners.md): each demo partner's tier and routing profile, so a lead posted to
# `POST /v1/leads` routes at once (no certification gate is set: `PUT /v1/lead-routing` turns one on).
DEMO_PARTNERS = (
    ("northwind", "preferred", {"industries": ["Software", "Manufacturing"], "regions": ["NA", "EU"],
                                "products": ["*"], "maxOpenLeads": 10}),
    ("contoso", "registered", {"industries": ["Software", "Healthcare"], "regions": ["NA"],
                               "products": ["*"], "maxOpenLeads": 5}),
)


def steps() -> int:
    from chalicelib.content.starter import STARTER

    return (len(TENANTS) + len(USERS) + len(STARTER) + len(DEMO_ENROLLMENTS) + len(DEMO_RULES) + len(DEMO_PROGRAMS)
            + len(DEMO_PARTNERS))


def operator() -> Any:
    """The operator as the seed acts: every scope, no tenant (what the operator client's token carries)."""
    from chalicelib.auth.principal import Principal
    from chalicelib.auth.scopes import ALL

    return Principal(subject="system:seed", tenant_id=None, roles=frozenset({"operator"}), scopes=ALL,
                     kind="operator")


def _tenant_by_slug(slug: str) -> dict[str, Any] | None:
    from pynamodb.models import Model

    from chalicelib.store import keys
    from chalicelib.store.models import SlugClaim
    from chalicelib.tenancy import service

    try:
        claim = SlugClaim.get(keys.slug_pk(slug), keys.SLUG_SK)
    except Model.DoesNotExist:
        return None
    return service.to_json(service.load_tenant(claim.tenant_id))


def _user_by_email(tenant_id: str, email: str) -> dict[str, Any] | None:
    from pynamodb.models import Model

    from chalicelib.store import keys
    from chalicelib.store.models import EmailClaim
    from chalicelib.users import service

    try:
        claim = EmailClaim.get(keys.email_pk(tenant_id, email), keys.EMAIL_SK)
    except Model.DoesNotExist:
        return None
    return service.to_json(service.load_user(tenant_id, claim.user_id))


def _ensure_tenant(spec: DemoTenant, parents: dict[str, str]) -> Entry:
    from chalicelib.api.schemas import CreateTenant
    from chalicelib.errors import Conflict
    from chalicelib.tenancy import service

    found = _tenant_by_slug(spec.slug)
    created = found is None
    if found is None:
        body = CreateTenant.model_validate({
            "name": spec.name, "slug": spec.slug, "template": spec.template,
            "parentTenantId": parents[spec.parent] if spec.parent else None})
        try:
            found = service.create_tenant(operator(), body, correlation_id="seed")
        except Conflict:  # a concurrent seed won the slug
            found, created = _tenant_by_slug(spec.slug), False
            if found is None:
                raise
    return Entry("tenant", spec.slug, found["id"], created, found["id"], found)


def _ensure_user(spec: DemoUser, tenant: Entry, managers: dict[str, str]) -> Entry:
    from chalicelib.api.schemas import CreateUser
    from chalicelib.auth.principal import TenantContext
    from chalicelib.errors import Conflict
    from chalicelib.users import service

    found = _user_by_email(tenant.id, spec.email)
    created = found is None
    if found is None:
        ctx = TenantContext(tenant_id=tenant.id, principal=operator(), relation="operator",
                            correlation_id="seed", tenant_kind=tenant.detail.get("kind", "customer"))
        body = CreateUser.model_validate({
            "email": spec.email, "displayName": spec.name, "roles": list(spec.roles),
            "password": DEMO_PASSWORD, "salesRole": spec.sales_role,
            "managerId": managers[spec.manager] if spec.manager else None})
        try:
            found = service.create_user(ctx, body)
        except Conflict:
            found, created = _user_by_email(tenant.id, spec.email), False
            if found is None:
                raise
    return Entry("user", spec.email, found["id"], created, tenant.id, found)


def run(on_step: Callable[[Entry], None] | None = None) -> Report:
    """Create whatever of the demo is missing; the report says what was created and what existed."""
    report = Report()
    by_key: dict[str, Entry] = {}
    for spec in TENANTS:
        entry = _ensure_tenant(spec, {k: e.id for k, e in by_key.items()})
        by_key[spec.key] = entry
        report.entries.append(entry)
        if on_step:
            on_step(entry)
    user_ids: dict[str, str] = {}
    for user in USERS:
        entry = _ensure_user(user, by_key[user.tenant], user_ids)
        user_ids[user.email] = entry.id
        report.entries.append(entry)
        if on_step:
            on_step(entry)
    _seed_courses(report, by_key, user_ids, on_step)
    for tenant_key, tier, profile in DEMO_PARTNERS:
        entry = _ensure_partner(by_key[tenant_key], tier, profile)
        report.entries.append(entry)
        if on_step:
            on_step(entry)
    return report


def _seed_courses(report: Report, tenants: dict[str, Entry], user_ids: dict[str, str],
                  on_step: Callable[[Entry], None] | None) -> None:
    from chalicelib.content import assets
    from chalicelib.content.starter import STARTER

    assets.sync()
    course_ids = {}
    for slug in STARTER:
        entry = _ensure_library_course(slug, [tenants[k].id for k in COURSE_GRANTEES])
        course_ids[slug] = entry.id
        report.entries.append(entry)
        if on_step:
            on_step(entry)
    for email, slug in DEMO_ENROLLMENTS:
        user = next(u for u in USERS if u.email == email)
        entry = _ensure_enrollment(tenants[user.tenant], user_ids[email], course_ids[slug])
        report.entries.append(entry)
        if on_step:
            on_step(entry)
    for tenant_key, name, sales_role, slug in DEMO_RULES:
        entry = _ensure_rule(tenants[tenant_key], name, sales_role, course_ids[slug])
        report.entries.append(entry)
        if on_step:
            on_step(entry)
    for tenant_key, name, slug in DEMO_PROGRAMS:
        entry = _ensure_program(tenants[tenant_key], name, course_ids[slug])
        report.entries.append(entry)
        if on_step:
            on_step(entry)


def _ensure_library_course(slug: str, grantees: list[str]) -> Entry:
    """The starter course in the shared library with a published version from its package."""
    from chalicelib import aws
    from chalicelib.api.schemas import CreateCourse, GrantCourse
    from chalicelib.catalog import catalog, courses
    from chalicelib.config import settings
    from chalicelib.content import ingest, starter

    spec = starter.STARTER[slug]
    course = courses.library_course_by_slug(slug)
    created = course is None
    if course is None:
        body = CreateCourse.model_validate({"title": spec.title, "description": spec.description, "slug": slug,
                                            "allowSelfEnroll": True})
        course = courses.load_course(courses.LIBRARY, courses.create_course(courses.LIBRARY, "system:seed", body,
                                                                            "seed")["id"])
    if course.latest_version is None:
        slot = ingest.create_upload(courses.LIBRARY, course.id, "system:seed", None)
        aws.s3().put_object(Bucket=settings().bucket_name, Key=slot["upload"]["fields"]["key"],
                            Body=starter.build(slug))
        ingest.ingest(courses.LIBRARY, course.id, slot["id"])  # unless the event pump got there first
        number = _ingested_version(slot["id"])
        courses.publish_version(courses.LIBRARY, course.id, int(number), "system:seed", "seed")
        course = courses.load_course(courses.LIBRARY, course.id)
    for tenant_id in grantees:
        catalog.grant(course.id, GrantCourse.model_validate({"tenantId": tenant_id}), "system:seed", "seed")
    return Entry("course", slug, course.id, created, "library", courses.to_json(course))


def _ingested_version(upload_id: str, timeout: float = 120.0) -> int:
    import time

    from chalicelib.catalog import courses
    from chalicelib.content import ingest

    deadline = time.monotonic() + timeout
    while True:
        upload = ingest.load_upload(courses.LIBRARY, upload_id)
        if upload.status == "ingested" and upload.version_number is not None:
            return int(upload.version_number)
        if upload.status == "rejected" or time.monotonic() > deadline:
            raise RuntimeError(f"starter package upload {upload_id} is {upload.status}: {upload.problem}")
        time.sleep(0.2)


def _ensure_enrollment(tenant: Entry, user_id: str, course_id: str) -> Entry:
    from chalicelib.api.schemas import CreateEnrollment
    from chalicelib.auth.principal import TenantContext
    from chalicelib.enrollment import service

    ctx = TenantContext(tenant_id=tenant.id, principal=operator(), relation="operator", correlation_id="seed")
    doc, created = service.enroll(ctx, CreateEnrollment.model_validate({"userId": user_id, "courseId": course_id}))
    return Entry("enrollment", f"{user_id}:{course_id}", doc["id"], created, tenant.id, doc)


def _ensure_rule(tenant: Entry, name: str, sales_role: str, course_id: str) -> Entry:
    from chalicelib.api.schemas import CreateEnrollmentRule
    from chalicelib.auth.principal import TenantContext
    from chalicelib.enrollment import rules

    found = next((r for r in rules.tenant_rules(tenant.id) if r.name == name), None)
    if found:
        return Entry("rule", name, found.id, False, tenant.id, rules.to_json(found))
    ctx = TenantContext(tenant_id=tenant.id, principal=operator(), relation="operator", correlation_id="seed")
    body = CreateEnrollmentRule.model_validate({
        "name": name, "courseId": course_id,
        "conditions": [{"attribute": "salesRole", "op": "eq", "value": sales_role}]})
    doc = rules.create_rule(ctx, body)
    return Entry("rule", name, doc["id"], True, tenant.id, doc)


def _ensure_program(tenant: Entry, name: str, course_id: str) -> Entry:
    from chalicelib.api.schemas import CreateCertification, PageQuery
    from chalicelib.auth.principal import TenantContext
    from chalicelib.certification import programs

    ctx = TenantContext(tenant_id=tenant.id, principal=operator(), relation="operator", correlation_id="seed")
    found = next((p for p in programs.list_programs(ctx, PageQuery.model_validate({"limit": 100}))["items"]
                  if p["name"] == name), None)
    if found:
        return Entry("program", name, found["id"], False, tenant.id, found)
    body = CreateCertification.model_validate({
        "name": name, "requirements": [{"kind": "course", "courseId": course_id, "minScore": 70}],
        "validityDays": 365, "recertification": {"courseId": course_id}})
    doc = programs.create_program(ctx, body)
    return Entry("program", name, doc["id"], True, tenant.id, doc)


def _ensure_partner(tenant: Entry, tier: str, profile: dict[str, Any]) -> Entry:
    """A demo partner's tier and routing profile (set only when missing: a user's own changes stay)."""
    from chalicelib.api.schemas import AssignPartnerTier, RoutingProfile
    from chalicelib.auth.principal import TenantContext
    from chalicelib.partners import lead_cards, tiers

    ctx = TenantContext(tenant_id=tenant.id, principal=operator(), relation="operator", correlation_id="seed",
                        tenant_kind="partner")
    current = lead_cards.get_profile(ctx)
    if current["inPool"]:
        return Entry("partner", tenant.label, tenant.id, False, tenant.id, current)
    tiers.assign_tier(ctx, AssignPartnerTier.model_validate({"tier": tier}))
    doc = lead_cards.put_profile(ctx, RoutingProfile.model_validate(profile))
    return Entry("partner", tenant.label, tenant.id, True, tenant.id, doc)


def credentials_table(report: Report) -> list[dict[str, str]]:
    """One row per demo user: where and how they log in."""
    tenants = {spec.key: report.tenants()[spec.slug] for spec in TENANTS if spec.slug in report.tenants()}
    rows = []
    for user in USERS:
        tenant = tenants.get(user.tenant)
        if tenant is None:
            continue
        spec = next(t for t in TENANTS if t.key == user.tenant)
        rows.append({"tenant": spec.slug, "tenantId": tenant.id, "template": spec.template,
                     "email": user.email, "password": DEMO_PASSWORD,
                     "roles": ",".join(user.roles) + (" (partner admin)" if spec.template == "reseller"
                                                      and "admin" in user.roles else "")})
    return rows


LRS_DEMO_TENANT = "acme"


def _active_lrs_credential(saved: dict[str, str]) -> bool:
    from pynamodb.models import Model

    from chalicelib.auth.passwords import verify_secret
    from chalicelib.store import keys
    from chalicelib.store.models import LrsCredential

    if not (keys.is_safe(saved.get("tenantId", "")) and keys.is_safe(saved.get("key", ""))):
        return False
    try:
        found = LrsCredential.get(keys.lrs_credential_pk(saved["tenantId"], saved["key"]), keys.LRS_KEY_SK)
    except Model.DoesNotExist:
        return False
    return found.status == "active" and verify_secret(saved.get("secret", ""), found.secret_hash)


def ensure_lrs_credential(report: Report, saved: dict[str, str] | None) -> tuple[dict[str, str], bool]:
    """The demo tenant's all-scopes LRS credential and whether it was made now.

    Its secret is shown only when it is made, so the caller keeps what this returns; a saved one is reused
    while the table still holds it, active and with that secret (a fresh in-memory emulator does not).
    """
    from chalicelib.api.schemas import CreateLrsCredential
    from chalicelib.auth.principal import TenantContext
    from chalicelib.lrs import credentials

    slug = next(t.slug for t in TENANTS if t.key == LRS_DEMO_TENANT)
    tenant = report.tenants()[slug]
    if saved and saved.get("tenantId") == tenant.id and _active_lrs_credential(saved):
        return saved, False
    ctx = TenantContext(tenant_id=tenant.id, principal=operator(), relation="operator", correlation_id="seed")
    made = credentials.create_credential(ctx, CreateLrsCredential.model_validate(
        {"name": "demo LRS credential (make run)", "scopes": ["all"]}))
    return {"tenant": slug, "tenantId": tenant.id, "key": made["key"], "secret": made["secret"]}, True
