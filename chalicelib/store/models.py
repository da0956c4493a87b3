"""pynamodb models: every entity shares the one table through the `type` discriminator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings


class GSI1(GlobalSecondaryIndex["Item"]):
    """Collections inside a tenant: its users, its clients, a parent's child tenants."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex["Item"]):
    """Second views: the operator's tenant directory, a manager's reports."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class Item(Model):
    class Meta:
        table_name = settings().table_name
        region = settings().region

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    ttl = NumberAttribute(null=True)
    gsi1 = GSI1()
    gsi2 = GSI2()


class Tenant(Item, discriminator="Tenant"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    template = UnicodeAttribute()
    kind = UnicodeAttribute()  # customer | partner
    status = UnicodeAttribute()  # active | suspended | retired
    parent_id = UnicodeAttribute(null=True)
    sandbox_of = UnicodeAttribute(null=True)
    sandbox_id = UnicodeAttribute(null=True)
    region = UnicodeAttribute()
    branding = MapAttribute[str, Any]()
    settings = MapAttribute[str, Any]()
    starter_catalog = ListAttribute[str](default=list)
    # the live (approved) partner brand kit: a partner's own, copied onto its customers (tenancy.branding)
    co_brand = MapAttribute[str, Any](null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class SlugClaim(Item, discriminator="SlugClaim"):
    tenant_id = UnicodeAttribute()


class User(Item, discriminator="User"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)  # None only for a provisioned user with a username (no password login)
    username = UnicodeAttribute(null=True)  # SCIM userName (unique per tenant, case-blind: UsernameClaim)
    display_name = UnicodeAttribute()
    roles = ListAttribute[str]()
    status = UnicodeAttribute()  # active | deactivated
    sales_role = UnicodeAttribute(null=True)
    region = UnicodeAttribute(null=True)
    department = UnicodeAttribute(null=True)
    manager_id = UnicodeAttribute(null=True)
    hire_date = UnicodeAttribute(null=True)
    groups = UnicodeSetAttribute(null=True)  # ids of the tenant's groups (SCIM Groups) the user belongs to
    external_ids = MapAttribute[str, Any](null=True)  # provisioning source (scim, ...) -> its id for the user
    deprovisioned_by = UnicodeAttribute(null=True)  # the source that deleted the user (SCIM DELETE): hidden there
    # a provisioning source's own representation of the user (SCIM attributes we do not map), stored as given
    source_profile = JSONAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    failed_logins = NumberAttribute(default=0)
    locked_until = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class EmailClaim(Item, discriminator="EmailClaim"):
    user_id = UnicodeAttribute()


class UsernameClaim(Item, discriminator="UsernameClaim"):
    """A username (SCIM userName) taken in the tenant (case-blind)."""

    user_id = UnicodeAttribute()


class ExternalIdClaim(Item, discriminator="ExternalIdClaim"):
    """A provisioning source's id for a user (SCIM externalId, a CRM record id): unique per source."""

    user_id = UnicodeAttribute()


class UserIndexEntry(Item, discriminator="UserIndexEntry"):
    """A user under one attribute value (salesRole, region, department, group) or hire date: enrollment
    rules find their matching users here, at a cost proportional to the matches."""

    user_id = UnicodeAttribute()


class ApiClient(Item, discriminator="ApiClient"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute[str]()
    secret_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # active | revoked
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class Event(Item, discriminator="Event"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute(null=True)
    event_type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True)
    detail = MapAttribute[str, Any]()


def plain(value: Any) -> Any:
    """A MapAttribute/ListAttribute value (or deserialised DynamoDB JSON) as plain JSON-able Python:
    numbers that DynamoDB hands back as Decimal become int or float."""
    if isinstance(value, MapAttribute):
        return {k: plain(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class LrsCredential(Item, discriminator="LrsCredential"):
    key = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute[str]()  # xAPI scopes as granted
    secret_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # active | revoked
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class XapiForwarding(Item, discriminator="XapiForwarding"):
    """A tenant's forwarding of its statements to an external LRS, and how the last delivery went."""

    tenant_id = UnicodeAttribute()
    endpoint = UnicodeAttribute()  # the external LRS's base URL, ending in "/"
    auth = UnicodeAttribute()  # basic | bearer
    username = UnicodeAttribute(null=True)
    secret_box = UnicodeAttribute()  # the password or token, AES-GCM sealed (lrs.forwarding)
    enabled = BooleanAttribute()
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    last_delivered_at = UnicodeAttribute(null=True)
    last_error = MapAttribute[str, Any](null=True)  # at, status, detail, statementIds
    version = NumberAttribute(default=1)


class StatementRecord(Item, discriminator="Statement"):
    """A stored statement (`doc` is its JSON as the LRS returns it) or one of its index copies."""

    statement_id = UnicodeAttribute()
    doc = UnicodeAttribute()
    digest = UnicodeAttribute()  # of the statement as sent, less what the LRS sets: the idempotency check
    stored = UnicodeAttribute()
    verb = UnicodeAttribute()
    voids = UnicodeAttribute(null=True)  # the target of a voiding statement
    voided = BooleanAttribute(null=True)
    authority = UnicodeAttribute(null=True)  # the credential or token subject that stored it
    agents = UnicodeSetAttribute(null=True)  # IFI keys of actor and object (index copies: combined filters)
    related_agents = UnicodeSetAttribute(null=True)
    activity = UnicodeAttribute(null=True)
    related_activities = UnicodeSetAttribute(null=True)
    registration = UnicodeAttribute(null=True)
    doc_ref = UnicodeAttribute(null=True)  # S3 key of a statement too large for its items (`doc` is then "")
    ref_of = UnicodeAttribute(null=True)  # index copy under the facets of this referenced statement (StatementRef)
    ref_facets = UnicodeAttribute(null=True)  # statement item: JSON [[target id, facets], ...] of its ref chain
    awaits = UnicodeAttribute(null=True)  # statement item: the chain's next target, not stored yet


class AwaitedStatement(Item, discriminator="AwaitedStatement"):
    """At a statement's own key until it is stored: the statements whose StatementRef chain waits for it
    (they get their index copies under its facets when it arrives; docs/lrs.md)."""

    referrers = UnicodeSetAttribute()
    version = NumberAttribute()


class VoidMarker(Item, discriminator="VoidMarker"):
    """In a statement's partition: the statement `voiding_id` voids it (written even if it arrives first)."""

    voiding_id = UnicodeAttribute()


class XapiDocument(Item, discriminator="XapiDocument"):
    """A state, activity profile or agent profile document (content in the item up to 350 KB, else in S3)."""

    doc_id = UnicodeAttribute()
    registration = UnicodeAttribute(null=True)
    content = BinaryAttribute(legacy_encoding=False)
    content_type = UnicodeAttribute()
    etag = UnicodeAttribute()
    updated = UnicodeAttribute()
    content_ref = UnicodeAttribute(null=True)  # S3 key of a document over the item's share (`content` is then empty)


class XapiActivity(Item, discriminator="XapiActivity"):
    """An activity's canonical definition: the definitions of the statements that name it, merged."""

    activity_id = UnicodeAttribute()
    definition = UnicodeAttribute()  # JSON
    revision = NumberAttribute()


# courses (chalicelib.catalog) -------------------------------------------------------------------------
class Course(Item, discriminator="Course"):
    """A course of a tenant's private library, or of the operator's shared library (owner `library`)."""

    id = UnicodeAttribute()
    owner = UnicodeAttribute()  # a tenant id, or keys.LIBRARY
    slug = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # active | archived
    allow_self_enroll = BooleanAttribute(default=False)
    share_with_customers = BooleanAttribute(default=False)  # a partner's course, seen by its customers
    packages = ListAttribute[str](default=list)  # library courses: the named content packages they are in
    latest_version = NumberAttribute(null=True)  # the latest published version
    latest = MapAttribute[str, Any](null=True)  # a summary of that version (format, scos, publishedAt)
    next_version = NumberAttribute(default=1)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class CourseSlugClaim(Item, discriminator="CourseSlugClaim"):
    course_id = UnicodeAttribute()


class CourseVersion(Item, discriminator="CourseVersion"):
    """An immutable content version: draft -> published -> retired."""

    course_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    number = NumberAttribute()
    status = UnicodeAttribute()
    format = UnicodeAttribute()  # scorm12 | scorm2004 | cmi5 | xapi
    edition = UnicodeAttribute(null=True)
    package_title = UnicodeAttribute()
    content_prefix = UnicodeAttribute()  # S3 prefix of the extracted files
    scos = ListAttribute[MapAttribute[str, Any]](default=list)
    choice = BooleanAttribute(default=True)
    flow = BooleanAttribute(default=True)
    file_count = NumberAttribute()
    total_bytes = NumberAttribute()
    upload_id = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    published_at = UnicodeAttribute(null=True)
    retired_at = UnicodeAttribute(null=True)


class CourseGrant(Item, discriminator="CourseGrant"):
    """A library course granted to a tenant (and, for a partner, to its customers)."""

    course_id = UnicodeAttribute()
    grantee_id = UnicodeAttribute()
    include_customers = BooleanAttribute(default=False)
    granted_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class PackageMember(Item, discriminator="PackageMember"):
    """A library course in a named content package."""

    package = UnicodeAttribute()
    course_id = UnicodeAttribute()


class PackageGrant(Item, discriminator="PackageGrant"):
    """A named content package granted to a tenant (and, for a partner, to its customers)."""

    package = UnicodeAttribute()
    grantee_id = UnicodeAttribute()
    include_customers = BooleanAttribute(default=False)
    granted_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class CatalogEntry(Item, discriminator="CatalogEntry"):
    """A tenant's view of one course: the owner's fields as of the latest version, and its overlay."""

    tenant_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    source = UnicodeAttribute()  # own | library | partner
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    allow_self_enroll = BooleanAttribute(default=False)
    latest_version = NumberAttribute(null=True)
    latest = MapAttribute[str, Any](null=True)
    overlay = MapAttribute[str, Any](default=dict)  # the tenant's customisations: survive new versions
    updated_at = UnicodeAttribute()


class Upload(Item, discriminator="Upload"):
    """A package upload: pending -> ingested (a new draft version) | rejected (with its problem)."""

    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    course_id = UnicodeAttribute()
    object_key = UnicodeAttribute()
    status = UnicodeAttribute()
    problem = MapAttribute[str, Any](null=True)
    version_number = NumberAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class UserImport(Item, discriminator="UserImport"):
    """A bulk user import (users.imports): awaiting_upload -> processing -> completed | failed. `chunks`
    counts the recorded chunks; `offset`/`next_row` say where the next one starts in the CSV."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute()
    file_name = UnicodeAttribute()
    object_key = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    sha256 = UnicodeAttribute(null=True)
    size_bytes = NumberAttribute(null=True)
    columns = ListAttribute[str](null=True)  # canonical column name per CSV position ("" = ignored)
    ignored_columns = ListAttribute[str](null=True)
    rows = NumberAttribute(null=True)
    offset = NumberAttribute(default=0)
    next_row = NumberAttribute(default=2)  # the header is row 1
    chunks = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    problem = UnicodeAttribute(null=True)  # why a failed import failed
    report_key = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)


class UserImportChunk(Item, discriminator="UserImportChunk"):
    """One processed chunk of an import: written once, with the import's progress, in one transaction."""

    number = NumberAttribute()
    first_row = NumberAttribute()
    rows = NumberAttribute()
    errors_csv = UnicodeAttribute(null=True)  # the chunk's lines of the error report


# enrollments and attempts -----------------------------------------------------------------------------
class Enrollment(Item, discriminator="Enrollment"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    course_owner = UnicodeAttribute()
    version = NumberAttribute()  # the content version the learner is on
    source = UnicodeAttribute()  # self | manager | rule | crm | import | recertification
    status = UnicodeAttribute()  # enrolled | in_progress | completed | failed | withdrawn | expired
    due_date = UnicodeAttribute(null=True)
    path_id = UnicodeAttribute(null=True)  # enrolled through this learning path
    requires = ListAttribute[str](null=True)  # courses of the path to complete first
    attempt_id = UnicodeAttribute(null=True)  # the current attempt
    score = NumberAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    cycle = NumberAttribute(null=True)  # a recertification cycle (> 1): its own claim (enrollment_cycle_claim_sk)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class LearningPath(Item, discriminator="LearningPath"):
    """Ordered courses; each may require earlier ones (`prerequisites`)."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    courses = ListAttribute[MapAttribute[str, Any]](default=list)  # {courseId, title, prerequisites}
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class PathMember(Item, discriminator="PathMember"):
    """One course of a path, indexed by course (which paths does a completion advance)."""

    path_id = UnicodeAttribute()
    course_id = UnicodeAttribute()


class PathCompletion(Item, discriminator="PathCompletion"):
    path_id = UnicodeAttribute()
    completed_at = UnicodeAttribute()
    cycle = NumberAttribute(null=True)  # a recertification cycle (> 1): keys.path_done_cycle_sk


class Cmi5Fetch(Item, discriminator="Cmi5Fetch"):
    """A used cmi5 fetch token and the AU session its LRS credential serves."""

    tenant_id = UnicodeAttribute()
    attempt_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    sco_index = NumberAttribute()
    session_id = UnicodeAttribute()
    registration = UnicodeAttribute()
    activity_id = UnicodeAttribute()
    credential_key = UnicodeAttribute()
    created_at = UnicodeAttribute()


class EnrollmentRule(Item, discriminator="EnrollmentRule"):
    """Enroll the users who meet `conditions` in a course or path; `backfill` tracks the retroactive run of
    the rule's current `generation` (bumped by every edit that changes who or what)."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    conditions = ListAttribute[MapAttribute[str, Any]](default=list)
    course_id = UnicodeAttribute(null=True)
    path_id = UnicodeAttribute(null=True)
    due_in_days = NumberAttribute(null=True)
    active = BooleanAttribute(default=True)
    generation = NumberAttribute(default=1)
    backfill = MapAttribute[str, Any](default=dict)  # status, step, cursor, counts, asOf, startedAt, finishedAt
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class EnrollmentClaim(Item, discriminator="EnrollmentClaim"):
    enrollment_id = UnicodeAttribute()


class Attempt(Item, discriminator="Attempt"):
    """One attempt at a course version; `runtime` holds each SCO's state under `s<index>`."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    enrollment_id = UnicodeAttribute()
    course_id = UnicodeAttribute()
    course_owner = UnicodeAttribute()
    course_title = UnicodeAttribute()
    version = NumberAttribute()
    format = UnicodeAttribute()
    content_prefix = UnicodeAttribute()
    scos = ListAttribute[MapAttribute[str, Any]](default=list)
    choice = BooleanAttribute(default=True)
    flow = BooleanAttribute(default=True)
    runtime = MapAttribute[str, Any](default=dict)
    status = UnicodeAttribute()  # in_progress | completed
    success = UnicodeAttribute(null=True)
    score = NumberAttribute(null=True)
    started_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


class CrmConfig(Item, discriminator="CrmConfig"):
    """A tenant's inbound settings for one CRM (integrations.crm.config); the HubSpot app secret is sealed."""

    tenant_id = UnicodeAttribute()
    source = UnicodeAttribute()  # salesforce | hubspot
    account = UnicodeAttribute(null=True)  # Salesforce OrganizationId / HubSpot portalId
    field_mapping = MapAttribute[str, Any]()  # CRM field -> user field
    object_types = ListAttribute[str](null=True)  # Salesforce sObject types accepted
    deactivate_when = MapAttribute[str, Any](null=True)  # {"field", "equals"}
    secret_box = UnicodeAttribute(null=True)  # AES-GCM sealed (auth.sealing)
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class CrmRecord(Item, discriminator="CrmRecord"):
    """What the platform last knew of a CRM record: mapped fields with the time each was set (events may
    arrive out of order), the linked user, and whether this source deactivated that user."""

    record_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    fields = MapAttribute[str, Any](default=dict)  # CRM field -> {"v": value, "at": ms or stamp}
    deleted_at = UnicodeAttribute(null=True)
    restored_at = UnicodeAttribute(null=True)
    deactivated_by_source = BooleanAttribute(default=False)
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class CrmEventClaim(Item, discriminator="CrmEventClaim"):
    """A CRM event processed once (written with the record after the user change); expires with `ttl`."""

    outcome = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    processed_at = UnicodeAttribute()


class ScimToken(Item, discriminator="ScimToken"):
    """A bearer token of a tenant's SCIM endpoint (chalicelib.scim.tokens); the secret is stored hashed."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # active | revoked
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class Group(Item, discriminator="Group"):
    """A tenant's group (SCIM Groups); its members are the `group` user index entries (users.service)."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class GroupNameClaim(Item, discriminator="GroupNameClaim"):
    group_id = UnicodeAttribute()


class CertificationProgram(Item, discriminator="CertificationProgram"):
    """What a learner must complete to be certified, for how long, and how to renew (docs/certifications.md)."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    requirements = ListAttribute[MapAttribute[str, Any]](default=list)  # {kind: course|path|statements, …}
    validity_days = NumberAttribute(null=True)  # None: never expires
    reminder_days = ListAttribute[NumberAttribute](default=list)  # e.g. [90, 60, 30]
    grace_days = NumberAttribute(default=0)
    recert_course_id = UnicodeAttribute(null=True)
    recert_path_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # active | archived
    counts = MapAttribute[str, Any](default=dict)  # certificates by status (aggregate)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class Certificate(Item, discriminator="Certificate"):
    """One issued certificate. States: active -> expiring (first reminder sent) -> expired -> recertifying
    (enrolled in the recertification training) -> a new certificate (next cycle) is active; or revoked."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    learner_name = UnicodeAttribute()
    program_id = UnicodeAttribute()
    program_name = UnicodeAttribute()
    cycle = NumberAttribute(default=1)
    status = UnicodeAttribute()  # active | expiring | expired | recertifying | renewed | revoked
    issued_at = UnicodeAttribute()
    expires_at = UnicodeAttribute(null=True)  # YYYY-MM-DD
    completed = ListAttribute[MapAttribute[str, Any]](default=list)  # {courseId, title, version, score, completedAt}
    score = NumberAttribute(null=True)
    reminders_due = ListAttribute[UnicodeAttribute](default=list)  # YYYY-MM-DD of reminders not yet sent
    reminders_sent = ListAttribute[MapAttribute[str, Any]](default=list)  # {days, day, sentAt}
    next_due = UnicodeAttribute(null=True)  # the next day the job acts on it (mirrors GSI2PK's day)
    pdf_key = UnicodeAttribute(null=True)
    pdf_version = NumberAttribute(null=True)  # the `version` the stored PDF was rendered from (stale: re-render)
    revoked_at = UnicodeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)


class CertificateClaim(Item, discriminator="CertificateClaim"):
    certificate_id = UnicodeAttribute()


class CertificateLocator(Item, discriminator="CertificateLocator"):
    tenant_id = UnicodeAttribute()


class CertificateExport(Item, discriminator="CertificateExport"):
    """An asynchronous certificate export (certification.export_job): running -> completed. `chunks` counts the
    chunk objects written; `cursor` (JSON of the claims Query's LastEvaluatedKey) says where the next starts."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    format = UnicodeAttribute()  # csv | json
    program_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # running | completed
    requested_by = UnicodeAttribute()
    chunks = NumberAttribute(default=0)
    rows = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)  # the finished file (keys.certificate_export_key)
    size_bytes = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)


class JobState(Item, discriminator="JobState"):
    """A scheduled job's progress: the last day it finished (keys.job_state_pk), to catch up missed days."""

    day = UnicodeAttribute()  # YYYY-MM-DD
    updated_at = UnicodeAttribute()


class ProgramTarget(Item, discriminator="ProgramTarget"):
    """A course, path or xAPI activity a program counts, in the program's partition and indexed by target
    (GSI2 programs_of_target): a completion finds the programs it touches with one Query."""

    program_id = UnicodeAttribute()
    target_id = UnicodeAttribute()
    role = UnicodeAttribute()  # requirement | recertification


class ProgramCounts(Item, discriminator="ProgramCounts"):
    """A shared (library) program's certificates by status in ONE tenant (keys.cert_program_pk(tenant, program) /
    CERT_COUNTS_SK): created by the first issue's `ADD` (top-level counters, so no map must exist first)."""

    active = NumberAttribute(null=True)
    expiring = NumberAttribute(null=True)
    expired = NumberAttribute(null=True)
    recertifying = NumberAttribute(null=True)
    renewed = NumberAttribute(null=True)
    revoked = NumberAttribute(null=True)


class PartnerTierConfig(Item, discriminator="PartnerTierConfig"):
    """The operator's partner tiers (keys.partner_tiers_pk / PARTNER_TIERS_SK): margin bands, entry requirements
    and benefits as JSON (amounts and percentages as decimal strings); absent, partners.tiers.DEFAULT_TIERS."""

    tiers = JSONAttribute()
    pricing = JSONAttribute(null=True)  # the quote terms (volume bands, accelerator, escalator); None: defaults
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


# --- partners: leads (partners.leads, partners.routing) ---
class LeadRoutingConfig(Item, discriminator="LeadRoutingConfig"):
    """The operator's lead-routing settings (keys.lead_routing_pk / LEAD_ROUTING_SK) as JSON; absent: defaults."""

    settings = JSONAttribute()
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class RoutingCard(Item, discriminator="RoutingCard"):
    """One partner in the lead pool (keys.lead_pool_pk / routing_card_sk): everything the score needs, kept fresh
    by the profile route, tier/certification/tenant events and the lead transactions (partners.lead_cards)."""

    partner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    tier = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # the partner tenant's: active | suspended | retired
    accepting = BooleanAttribute(default=True)
    industries = ListAttribute[str](default=list)
    regions = ListAttribute[str](default=list)
    products = ListAttribute[str](default=list)
    max_open_leads = NumberAttribute(default=10)
    open_leads = NumberAttribute(default=0)  # offered (pending) + claimed, not yet won or lost
    certified = MapAttribute[str, Any](default=dict)  # program id -> current certified reps (active + expiring)
    recent = ListAttribute[str](default=list)  # outcomes of resolved offers, oldest first: claimed|declined|timedOut
    updated_at = UnicodeAttribute()


class Lead(Item, discriminator="Lead"):
    """A routed lead (keys.lead_pk / LEAD_SK): GSI1 by status, GSI2 all leads; `offer_*` while offered."""

    id = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # offered | claimed | escalated | won | lost
    industry = UnicodeAttribute()
    region = UnicodeAttribute()
    product = UnicodeAttribute()
    deal_size = UnicodeAttribute()  # a decimal string, 2 places (exact money)
    company = MapAttribute[str, Any](default=dict)
    contact = MapAttribute[str, Any](default=dict)
    notes = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    offered_to = ListAttribute[str](default=list)
    offer_partner_id = UnicodeAttribute(null=True)
    offer_expires_at = UnicodeAttribute(null=True)
    offered_at = UnicodeAttribute(null=True)
    owner_partner_id = UnicodeAttribute(null=True)
    claimed_at = UnicodeAttribute(null=True)
    escalated_at = UnicodeAttribute(null=True)
    escalation = MapAttribute[str, Any](null=True)  # reason, channelManager
    escalation_mailed_at = UnicodeAttribute(null=True)  # the channel manager's email went out (once)
    outcome = MapAttribute[str, Any](null=True)  # status, amount, at
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class LeadOffer(Item, discriminator="LeadOffer"):
    """A lead offered to one partner (keys.lead_offer_sk): GSI1 the partner's leads; GSI2 the due-time index while
    outstanding, the partner's closed leads once won or lost. Carries what re-routing needs (no lead read)."""

    lead_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    attempt = NumberAttribute()
    outcome = UnicodeAttribute()  # offered | claimed | declined | timedOut
    offered_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    resolved_at = UnicodeAttribute(null=True)
    industry = UnicodeAttribute()
    region = UnicodeAttribute()
    product = UnicodeAttribute()
    deal_size = UnicodeAttribute()  # a decimal string
    company_name = UnicodeAttribute(null=True)
    offered_before = ListAttribute[str](default=list)  # every partner offered the lead up to this one
    closed_status = UnicodeAttribute(null=True)  # won | lost
    closed_at = UnicodeAttribute(null=True)
    amount = UnicodeAttribute(null=True)  # won: a decimal string


class LeadDecision(Item, discriminator="LeadDecision"):
    """One routing decision of a lead (keys.lead_decision_sk): why this partner, the ranked candidates, exclusions."""

    lead_id = UnicodeAttribute()
    attempt = NumberAttribute()
    trigger = UnicodeAttribute()  # created | declined | timedOut
    at = UnicodeAttribute()
    explanation = JSONAttribute()


class LeadExternalClaim(Item, discriminator="LeadExternalClaim"):
    lead_id = UnicodeAttribute()


# --- partners: brand kits (partners.brandkits) ---
class BrandKitDraft(Item, discriminator="BrandKitDraft"):
    """A partner's brand-kit draft (keys.brand_kit_pk / BRAND_KIT_DRAFT_SK), edited in place by its admins:
    `revision` counts saves, `versions` the versions submitted so far, `submitted_revision` the last submitted."""

    partner_id = UnicodeAttribute()
    kit = JSONAttribute()
    revision = NumberAttribute(default=1)
    versions = NumberAttribute(default=0)
    submitted_revision = NumberAttribute(null=True)
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class BrandKitVersion(Item, discriminator="BrandKitVersion"):
    """A submitted brand-kit version (keys.brand_kit_version_sk): the kit never changes; `status` moves once,
    submitted -> approved | changes_requested, and `decisions` records who decided, when and why."""

    partner_id = UnicodeAttribute()
    version = NumberAttribute()
    kit = JSONAttribute()
    status = UnicodeAttribute()  # submitted | approved | changes_requested
    submitted_by = UnicodeAttribute()
    submitted_at = UnicodeAttribute()
    decisions = JSONAttribute(null=True)  # [{action, actor, at, comments}]
    live_at = UnicodeAttribute(null=True)  # when its approval made it the live kit


class BrandKitAuditEntry(Item, discriminator="BrandKitAuditEntry"):
    """One action on a partner's brand kit (keys.brand_kit_audit_sk): draft saved, submitted, approved,
    changes requested, went live."""

    partner_id = UnicodeAttribute()
    action = UnicodeAttribute()
    version = NumberAttribute(null=True)
    actor = UnicodeAttribute()
    at = UnicodeAttribute()
    comments = ListAttribute[str](null=True)



# --- partners: SLAs (partners.sla) ---
class SlaCalendar(Item, discriminator="SlaCalendar"):
    """A partner's business calendar (keys.sla_pk / SLA_CALENDAR_SK) as JSON; absent: Mon-Fri 09:00-17:00 UTC."""

    partner_id = UnicodeAttribute()
    calendar = JSONAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class SlaPolicy(Item, discriminator="SlaPolicy"):
    """The operator's SLA hours per severity (keys.sla_policy_pk / SLA_POLICY_SK) as JSON; absent: defaults."""

    policy = JSONAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class SupportCase(Item, discriminator="SupportCase"):
    """A customer's support case (keys.support_case_pk / SUPPORT_CASE_SK): GSI1 the customer's cases, GSI2 the
    partner's. The calendar and hours in force at opening ride on it, so its clocks never need another read.
    Each clock (response, resolution) is pending, then met or breached, exactly once (conditional updates)."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    subject = UnicodeAttribute()
    description = UnicodeAttribute()
    severity = UnicodeAttribute()  # high | medium | low
    status = UnicodeAttribute()  # open | responded | resolved
    opened_by = UnicodeAttribute()
    opened_at = UnicodeAttribute()
    calendar = JSONAttribute()
    response_hours = NumberAttribute()
    resolution_hours = NumberAttribute()
    response_due_at = UnicodeAttribute()
    resolution_due_at = UnicodeAttribute()
    response_status = UnicodeAttribute(default="pending")  # pending | met | breached
    resolution_status = UnicodeAttribute(default="pending")
    breached = BooleanAttribute(default=False)
    responded_at = UnicodeAttribute(null=True)
    responded_by = UnicodeAttribute(null=True)
    responses = NumberAttribute(default=0)
    resolved_at = UnicodeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


class SupportCaseResponse(Item, discriminator="SupportCaseResponse"):
    """A response to a case by the partner's support (keys.case_response_sk)."""

    case_id = UnicodeAttribute()
    message = UnicodeAttribute()
    author = UnicodeAttribute()
    at = UnicodeAttribute()
    first = BooleanAttribute(default=False)


class SlaDueEntry(Item, discriminator="SlaDueEntry"):
    """An open clock in the due-time index (keys.sla_due_sk; GSI1 keys.sla_due_gsi1pk): deleted when the clock
    is met or breached. Carries what the breach job needs (no case read)."""

    tenant_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    case_id = UnicodeAttribute()
    clock = UnicodeAttribute()  # response | resolution
    due_at = UnicodeAttribute()


class UptimeMonth(Item, discriminator="UptimeMonth"):
    """A partner's uptime figure of one month (keys.uptime_pk / uptime_sk), entered by the operator."""

    partner_id = UnicodeAttribute()
    month = UnicodeAttribute()  # YYYY-MM
    percent = UnicodeAttribute()  # a decimal string, 3 places
    note = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()



# --- partners: scorecards and onboarding (partners.scorecards, partners.onboarding) ---
class OnboardingPlan(Item, discriminator="OnboardingPlan"):
    """A partner's 12-month onboarding plan (keys.onboarding_pk / ONBOARDING_PLAN_SK; GSI1 keys.partners_gsi1pk:
    the partners index): milestones and enablement-kit deliverables as JSON lists, changed conditionally on
    `version`."""

    partner_id = UnicodeAttribute()
    joined_at = UnicodeAttribute()
    template = UnicodeAttribute()  # the template's id and version the plan was made from
    milestones = JSONAttribute()
    deliverables = JSONAttribute()
    version = NumberAttribute(default=1)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class ScorecardConfig(Item, discriminator="ScorecardConfig"):
    """The operator's scorecard thresholds per tier and KPI, and incentive rules (keys.scorecard_config_pk /
    SCORECARD_CONFIG_SK) as JSON; absent: partners.scorecard_rules defaults."""

    thresholds = JSONAttribute()
    incentives = JSONAttribute()
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class Scorecard(Item, discriminator="Scorecard"):
    """A partner's scorecard of one quarter (keys.scorecards_pk / scorecard_sk): the computed card as JSON;
    `version` counts the times its content changed (a re-run with the same figures writes nothing)."""

    partner_id = UnicodeAttribute()
    quarter = UnicodeAttribute()  # 2027Q1
    card = JSONAttribute()
    version = NumberAttribute(default=1)
    computed_at = UnicodeAttribute()


class KpiInputs(Item, discriminator="KpiInputs"):
    """The operator's KPI inputs of one partner and quarter (keys.scorecards_pk / kpi_inputs_sk): decimal strings."""

    partner_id = UnicodeAttribute()
    quarter = UnicodeAttribute()
    customer_satisfaction = UnicodeAttribute(null=True)  # CSAT percent
    renewal_rate = UnicodeAttribute(null=True)  # percent
    note = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()
