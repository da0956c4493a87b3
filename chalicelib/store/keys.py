"""The key schema: every partition, sort and index key of the table is built here and only here.

Access patterns (kept in step with docs/access-patterns.md):

| pattern                          | key / index                                   | served by                  |
|----------------------------------|-----------------------------------------------|----------------------------|
| tenant by id                     | PK=T#<t>#TENANT  SK=TENANT                     | tenancy.repo.get_tenant    |
| tenant id by slug (uniqueness)   | PK=OP#SLUG#<slug> SK=SLUG                      | tenancy.repo.tenant_by_slug|
| all tenants (operator)           | GSI2 PK=OP#TENANTS  SK=<slug>                  | tenancy.repo.list_tenants  |
| a parent's child tenants         | GSI1 PK=T#<parent>#TENANTS SK=<slug>           | tenancy.repo.list_tenants  |
| user by id                       | PK=T#<t>#USER#<u> SK=PROFILE                   | users.repo.get_user        |
| user id by email (uniqueness)    | PK=T#<t>#EMAIL#<email> SK=EMAIL                | users.repo.user_by_email   |
| a tenant's users by email        | GSI1 PK=T#<t>#USERS SK=<email>                 | users.repo.list_users      |
| a manager's reports              | GSI2 PK=T#<t>#MGR#<m> SK=<email>               | users.repo.list_users      |
| user id by external id (SCIM, CRM) | PK=T#<t>#EXTID#<source>#<ext> SK=EXTID       | users.service              |
| user id by username (SCIM userName) | PK=T#<t>#UNAME#<username> SK=UNAME          | users.service              |
| users by attribute value / group | PK=T#<t>#UATTR#<attr>#<value> SK=<u>           | users.index (rules)        |
| users by hire date               | PK=T#<t>#UHIRED SK=<date>#<u>                  | users.index (rules)        |
| API client by id                 | PK=T#<t>#CLIENT#<c> SK=CLIENT                  | auth.clients.get_client    |
| a tenant's API clients           | GSI1 PK=T#<t>#CLIENTS SK=<createdAt>#<c>        | auth.clients.list_clients  |
| a tenant's events (outbox)       | PK=T#<t>#EVENTS#<shard> SK=<at>#<eventId>      | events.outbox              |
| idempotency records              | PK=T#<t>#IDEM (Powertools)                     | http.idempotency           |
| health probe                     | PK=OP#HEALTH SK=HEALTH                         | health.check               |
| LRS credential by key            | PK=T#<t>#LRSKEY#<k> SK=LRSKEY                  | lrs.credentials            |
| a tenant's LRS credentials       | GSI1 PK=T#<t>#LRSKEYS SK=<createdAt>#<k>       | lrs.credentials            |
| statement by id (+ void markers) | PK=T#<t>#STMT#<id> SK=STATEMENT / VOIDEDBY#<v> | lrs.statements             |
| statements by stored time        | PK=T#<t>#SFEED#<shard> SK=<stored>#<id>        | lrs.query                  |
| statements by agent/verb/act/reg | PK=T#<t>#SIDX#<dim>#<hash>[#<shard>] SK=<stored>#<id> | lrs.query          |
| xAPI documents (state, profiles) | PK=T#<t>#XDOC#<kind>#<hash> SK=<part>#<idhash> | lrs.documents              |
| xAPI forwarding (external LRS)   | PK=T#<t>#XFWD SK=XFWD                          | lrs.forwarding             |
| activity definition (canonical)  | PK=T#<t>#XACT#<hash> SK=XACT                   | lrs.activities             |
| course (+ versions, grants)      | PK=T#<t>#COURSE#<c> | LIB#COURSE#<c> SK=COURSE|V#<n>|GRANT#<t> | catalog |
| an owner's courses               | GSI1 PK=T#<t>#COURSES or LIB#COURSES SK=<createdAt>#<c> | catalog.courses   |
| library course id by slug        | PK=LIB#CSLUG#<slug> SK=CSLUG                   | catalog.courses            |
| a tenant's catalog (its view)    | PK=T#<t>#CATALOG SK=COURSE#<c>                 | catalog.catalog            |
| the tenants that see a course    | GSI2 PK=<course owner prefix>VIEWERS#<c> SK=<t> | catalog.catalog (fan-out) |
| a grantee's grants               | GSI1 PK=T#<t>#GRANTS SK=COURSE#<c> / PKG#<name> | catalog.catalog           |
| content package: courses, grants | PK=LIB#PKG#<name> SK=COURSE#<c> / GRANT#<t>    | catalog.catalog            |
| package upload                   | PK=T#<t>#UPLOAD#<u> or LIB#UPLOAD#<u> SK=UPLOAD | content.ingest            |
| user import (+ its chunks)       | PK=T#<t>#UIMPORT#<i> SK=UIMPORT|CHUNK#<n>      | users.imports              |
| a tenant's user imports          | GSI1 PK=T#<t>#UIMPORTS SK=<createdAt>#<i>      | users.imports              |
| enrollment by id                 | PK=T#<t>#ENR#<e> SK=ENROLLMENT                 | enrollment.service         |
| one enrollment per user+course   | PK=T#<t>#USER#<u> SK=ENRCLAIM#<c>              | enrollment.service         |
| a user's enrollments             | GSI1 PK=T#<t>#USER#<u>#ENRS SK=<createdAt>#<e> | enrollment.service         |
| a course's enrollments           | GSI2 PK=T#<t>#CENRS#<c> SK=<createdAt>#<e>     | enrollment.service         |
| a tenant's enrollment rules      | PK=T#<t>#RULES SK=RULE#<r>                     | enrollment.rules           |
| attempt by id (runtime state)    | PK=T#<t>#ATTEMPT#<a> SK=ATTEMPT                | content.attempts           |
| learning path (+ its courses)    | PK=T#<t>#PATH#<p> SK=PATH / COURSE#<c>         | catalog.paths              |
| a tenant's paths                 | GSI1 PK=T#<t>#PATHS SK=<createdAt>#<p>         | catalog.paths              |
| the paths that contain a course  | GSI2 PK=T#<t>#CPATHS#<c> SK=<p>                | catalog.paths (completion) |
| a user's completed path (once)   | PK=T#<t>#USER#<u> SK=PATHDONE#<p>              | catalog.paths              |
| cmi5 fetch use / AU session      | PK=T#<t>#CMI5FETCH#<token id> SK=CMI5FETCH     | content.cmi5               |
| certification program            | PK=T#<t>#CERTPROG#<p> SK=CERTPROG               | certification.programs     |
| a tenant's programs              | GSI1 PK=T#<t>#CERTPROGS SK=<createdAt>#<p>      | certification.programs     |
| a program's courses (completion) | GSI2 PK=T#<t>#CPROGS#<course or path> SK=<p>    | certification.issue        |
| certificate                      | PK=T#<t>#CERT#<c> SK=CERT                       | certification.certificates |
| a user's certificates            | GSI1 PK=T#<t>#USER#<u>#CERTS SK=<issuedAt>#<c>  | certification.certificates |
| certificates due (reminder/expiry) | GSI2 PK=OP#CERTDUE#<date>#<shard> SK=<t>#<c>  | certification.reminders    |
| one certificate per user+program+cycle | PK=T#<t>#USER#<u> SK=CERTCLAIM#<p>#<cycle> | certification.issue        |
| certificate id -> tenant (verify) | PK=OP#CERTID#<c> SK=CERTID                     | certification.verify       |
| a scheduled job's last day done  | PK=OP#JOB#<job> SK=JOBSTATE                    | certification.reminders    |
| a recertification enrollment     | PK=T#<t>#USER#<u> SK=ENRCLAIM#<c>#<cycle>      | enrollment.service         |
| a program's targets (index items) | PK=T#<t>#CERTPROG#<p> SK=TARGET#<target> | certification.programs |
| a tenant's certificates by program | GSI1 PK=T#<t>#CERTS SK=<p>#<issuedAt>#<c> (claims) | certification.exports |
| CRM inbound settings per source  | PK=T#<t>#CRMCFG#<source> SK=CRMCFG             | integrations.crm.config    |
| a CRM record's last known state  | PK=T#<t>#CRMREC#<source>#<record> SK=CRMREC    | integrations.crm.sync      |
| a CRM event processed (once)     | PK=T#<t>#CRMEVT#<source>#<event> SK=CRMEVT     | integrations.crm.sync      |
| SCIM bearer token by id          | PK=T#<t>#SCIMTOKEN#<k> SK=SCIMTOKEN            | scim.tokens                |
| a tenant's SCIM tokens           | GSI1 PK=T#<t>#SCIMTOKENS SK=<createdAt>#<k>    | scim.tokens                |
| group by id (SCIM Groups)        | PK=T#<t>#GROUP#<g> SK=GROUP                    | scim.groups                |
| group id by name (uniqueness)    | PK=T#<t>#GROUPNAME#<name> SK=GROUPNAME         | scim.groups                |
| a tenant's groups by name        | GSI1 PK=T#<t>#GROUPS SK=<name>#<g>             | scim.groups                |
| lead-routing settings            | PK=OP#LEADROUTING SK=LEADROUTING               | partners.routing           |
| the lead pool (routing cards)    | PK=OP#LEADPOOL SK=<partner>                    | partners.lead_cards        |
| lead, its offers, its decisions  | PK=OP#LEAD#<l> SK=LEAD / OFFER#<p> / ROUTE#<n> | partners.leads             |
| lead by external id              | PK=OP#LEADEXT#<ext> SK=LEADEXT                 | partners.leads             |
| leads by status / all            | GSI1 OP#LEADS#<status>, GSI2 OP#LEADLIST SK=<createdAt>#<l> | partners.leads |
| a partner's leads / closed leads | GSI1 T#<p>#LEADS, GSI2 T#<p>#LEADCLOSED SK=<at>#<l> | partners.lead_figures |
| offers due (claim timeouts)      | GSI2 OP#LEADDUE#<quarter hour>#<shard> SK=<expiresAt>#<l> | partners.lead_job |
| a partner's brand kit (draft, versions, audit) | PK=T#<p>#BRANDKIT SK=BKDRAFT/BKV#<n>/BKAUDIT#<at>#<id> | brandkits |
| a partner's SLA calendar         | PK=T#<p>#SLA SK=SLACAL                         | partners.sla_calendar      |
| the operator's SLA policy        | PK=OP#SLAPOLICY SK=SLAPOLICY                   | partners.sla_calendar      |
| support case (+ responses, due entries) | PK=T#<t>#CASE#<c> SK=CASE / RESP#<r> / DUE#<clock> | partners.sla_cases |
| a customer's support cases       | GSI1 PK=T#<t>#CASES SK=<openedAt>#<c>          | partners.sla_cases         |
| a partner's customers' cases     | GSI2 PK=T#<p>#PCASES SK=<openedAt>#<c>         | partners.sla_cases, sla    |
| SLA clocks due (breach job)      | GSI1 PK=OP#SLADUE#<quarter>#<shard> SK=<dueAt>#<c>#<clock> | partners.sla_job |
| a partner's monthly uptime       | PK=T#<p>#UPTIME SK=<YYYY-MM>                   | partners.sla_uptime        |
| a partner's onboarding plan      | PK=T#<p>#ONBOARDING SK=ONBPLAN                 | partners.onboarding        |
| every partner (scorecards job)   | GSI1 PK=OP#PARTNERS SK=<p> (on the plan)       | partners.scorecard_job     |
| scorecard thresholds (operator)  | PK=OP#SCORECFG SK=SCORECFG                     | partners.scorecard_rules   |
| a partner's scorecards, KPI inputs | PK=T#<p>#SCORECARDS SK=SC#<quarter> / KPIIN#<quarter> | partners.scorecards |
"""

from __future__ import annotations

import re
from urllib.parse import quote

TENANT_SK = "TENANT"
SLUG_SK = "SLUG"
USER_SK = "PROFILE"
EMAIL_SK = "EMAIL"
EXTID_SK = "EXTID"
USERNAME_SK = "UNAME"
CLIENT_SK = "CLIENT"
HEALTH_SK = "HEALTH"
LRS_KEY_SK = "LRSKEY"
STATEMENT_SK = "STATEMENT"
COURSE_SK = "COURSE"
COURSE_SLUG_SK = "CSLUG"
UPLOAD_SK = "UPLOAD"
ENROLLMENT_SK = "ENROLLMENT"
ATTEMPT_SK = "ATTEMPT"
PATH_SK = "PATH"
CMI5_FETCH_SK = "CMI5FETCH"
CERT_PROGRAM_SK = "CERTPROG"
CERTIFICATE_SK = "CERT"
CERT_COUNTS_SK = "CERTCOUNTS"  # a shared program's counts in one tenant (in cert_program_pk(tenant, program))
CERT_ID_SK = "CERTID"
CERT_EXPORT_SK = "CERTEXPORT"  # an asynchronous certificate export (certification.export_job)
CERT_DUE_SHARDS = 16
JOB_STATE_SK = "JOBSTATE"
XAPI_FORWARDING_SK = "XFWD"
XAPI_ACTIVITY_SK = "XACT"
USER_IMPORT_SK = "UIMPORT"
USER_IMPORT_CHUNK_PREFIX = "CHUNK#"
USER_IMPORT_UPLOADS = "uploads/user-imports/"  # S3 object keys of import CSVs
CRM_CONFIG_SK = "CRMCFG"
CRM_RECORD_SK = "CRMREC"
CRM_EVENT_SK = "CRMEVT"
SCIM_TOKEN_SK = "SCIMTOKEN"
GROUP_SK = "GROUP"
GROUP_NAME_SK = "GROUPNAME"
PARTNER_TIERS_SK = "PTIERS"  # the operator's partner tiers and margin bands (partners.tiers)
LIBRARY = "library"  # the owner of the operator's shared library courses
EVENT_SHARDS = 16
STATEMENT_SHARDS = 16

_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")  # \Z: `$` would let a trailing newline through


def _seg(value: str) -> str:
    """A key segment: ids are [a-z0-9._-], so a '#' can never smuggle in another segment."""
    if not _SAFE.match(value):
        raise ValueError(f"unsafe key segment: {value!r}")
    return value


def _tenant(tenant_id: str) -> str:
    return f"T#{_seg(tenant_id)}#"


def _operator() -> str:
    return "OP#"


# tenants
def tenant_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}TENANT"


def slug_pk(slug: str) -> str:
    return f"{_operator()}SLUG#{_seg(slug)}"


def all_tenants_gsi2pk() -> str:
    return f"{_operator()}TENANTS"


def child_tenants_gsi1pk(parent_id: str) -> str:
    return f"{_tenant(parent_id)}TENANTS"


def tenant_slug_sk(slug: str) -> str:
    """Sort key of a tenant in the directory and in its parent's customer list."""
    return _seg(slug)


# users
def user_pk(tenant_id: str, user_id: str) -> str:
    return f"{_tenant(tenant_id)}USER#{_seg(user_id)}"


def email_pk(tenant_id: str, email: str) -> str:
    # emails carry characters outside the id alphabet: they are lower-cased and kept whole,
    # but a '#' (legal in an email's local part) is escaped so it cannot split the key
    return f"{_tenant(tenant_id)}EMAIL#{email.lower().replace('#', '%23')}"


def _escaped(value: str) -> str:
    """Free text as a key segment: every character outside the unreserved URL alphabet escaped."""
    return quote(value, safe="")


def external_id_pk(tenant_id: str, source: str, external_id: str) -> str:
    """The user a provisioning source (scim, salesforce, hubspot, import) knows by its own id (exact case)."""
    return f"{_tenant(tenant_id)}EXTID#{_seg(source)}#{_escaped(external_id)}"


def username_pk(tenant_id: str, username: str) -> str:
    """The user a username (SCIM userName) names: unique per tenant, case-blind (RFC 7643 caseExact=false)."""
    return f"{_tenant(tenant_id)}UNAME#{_escaped(username.lower())}"


def user_attribute_pk(tenant_id: str, attribute: str, value: str) -> str:
    """The users whose attribute (salesRole, region, department, group) has this value (case-blind)."""
    return f"{_tenant(tenant_id)}UATTR#{_seg(attribute.lower())}#{_escaped(value.strip().lower())}"


def user_attribute_sk(user_id: str) -> str:
    return _seg(user_id)


def users_by_hire_date_pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}UHIRED"


def users_by_hire_date_sk(hire_date: str, user_id: str = "") -> str:
    """`<date>#<user>`; with no user, the bound of a date range."""
    return f"{hire_date}#{_seg(user_id)}" if user_id else hire_date


def users_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}USERS"


def user_email_sk(email: str) -> str:
    """Sort key of a user in the tenant's user list and a manager's reports (also a prefix query)."""
    return email.lower()


def user_list_sk(email: str | None, username: str) -> str:
    """A user's sort key in the tenant's user list and a manager's reports: the email; for a user without one
    (provisioned with a username) `@<username>`, which no email prefix matches (an email never starts with `@`)."""
    return user_email_sk(email) if email else "@" + username.lower()


def reports_gsi2pk(tenant_id: str, manager_id: str) -> str:
    return f"{_tenant(tenant_id)}MGR#{_seg(manager_id)}"


# API clients
def client_pk(tenant_id: str, client_id: str) -> str:
    return f"{_tenant(tenant_id)}CLIENT#{_seg(client_id)}"


def clients_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}CLIENTS"


def clients_gsi1sk(created_at: str, client_id: str) -> str:
    return f"{created_at}#{client_id}"


# events (outbox), sharded so one tenant's event stream spreads over EVENT_SHARDS partitions
def event_pk(tenant_id: str | None, shard: int) -> str:
    owner = _tenant(tenant_id) if tenant_id else _operator()
    return f"{owner}EVENTS#{shard % EVENT_SHARDS:02d}"


def event_sk(at: str, event_id: str) -> str:
    return f"{at}#{event_id}"


# idempotency records (Powertools persistence layer, one partition per tenant)
def idempotency_pk(tenant_id: str | None) -> str:
    owner = _tenant(tenant_id) if tenant_id else _operator()
    return f"{owner}IDEM"


# the LRS (xAPI): credentials, statements and their index items (docs/lrs.md)
def lrs_credential_pk(tenant_id: str, key: str) -> str:
    return f"{_tenant(tenant_id)}LRSKEY#{_seg(key)}"


def lrs_credentials_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}LRSKEYS"


def lrs_credentials_gsi1sk(created_at: str, key: str) -> str:
    return f"{created_at}#{_seg(key)}"


def statement_pk(tenant_id: str, statement_id: str) -> str:
    """One partition per statement: the statement (or, until it arrives, the `AwaitedStatement` naming the
    statements that reference it) and the markers of statements that void it."""
    return f"{_tenant(tenant_id)}STMT#{_seg(statement_id)}"


def voided_by_sk(voiding_id: str) -> str:
    return f"VOIDEDBY#{_seg(voiding_id)}"


def statement_feed_pk(tenant_id: str, shard: int) -> str:
    """The tenant's statements by stored time, spread over STATEMENT_SHARDS partitions."""
    return f"{_tenant(tenant_id)}SFEED#{shard % STATEMENT_SHARDS:02d}"


def statement_index_pk(tenant_id: str, dimension: str, value_hash: str, shard: int | None = None) -> str:
    """Statements of one agent / verb / activity / registration (a hash of the value), by stored time.

    Verbs and activities (one value can take much of a tenant's stream) are sharded like the feed;
    agents and registrations are one partition per value.
    """
    base = f"{_tenant(tenant_id)}SIDX#{_seg(dimension)}#{_seg(value_hash)}"
    return base if shard is None else f"{base}#{shard % STATEMENT_SHARDS:02d}"


def statement_order_sk(stored: str, statement_id: str) -> str:
    return f"{stored}#{_seg(statement_id)}"


def statement_ref_order_sk(stored: str, statement_id: str, target_id: str) -> str:
    """A statement's index copy under the facets of a statement it references (a StatementRef, followed
    along chains): sorts next to the statement's own copy (`statement_order_sk` + `#<target>`)."""
    return f"{statement_order_sk(stored, statement_id)}#{_seg(target_id)}"


def xapi_forwarding_pk(tenant_id: str) -> str:
    """A tenant's forwarding of its statements to an external LRS (one item: settings and delivery status)."""
    return f"{_tenant(tenant_id)}XFWD"


def xapi_activity_pk(tenant_id: str, activity_hash: str) -> str:
    """An activity's canonical definition (the Activities resource), by a hash of its id."""
    return f"{_tenant(tenant_id)}XACT#{_seg(activity_hash)}"


def document_pk(tenant_id: str, kind: str, scope_hash: str) -> str:
    """xAPI documents of one scope: state of (activity, agent), profiles of an activity or an agent."""
    return f"{_tenant(tenant_id)}XDOC#{_seg(kind)}#{_seg(scope_hash)}"


def document_sk(part: str, id_hash: str) -> str:
    """`part` is the registration's hash for state documents (or `none`), so one registration is a prefix."""
    return f"{_seg(part)}#{_seg(id_hash)}"


def document_part_prefix(part: str) -> str:
    return f"{_seg(part)}#"


# courses: owned by a tenant (`T#<t>#`) or by the operator's shared library (`LIB#`)
def _owner(owner: str) -> str:
    return "LIB#" if owner == LIBRARY else _tenant(owner)


def course_pk(owner: str, course_id: str) -> str:
    """A course's partition: the course item, its versions and (library courses) its grants."""
    return f"{_owner(owner)}COURSE#{_seg(course_id)}"


def courses_gsi1pk(owner: str) -> str:
    return f"{_owner(owner)}COURSES"


def courses_gsi1sk(created_at: str, course_id: str) -> str:
    return f"{created_at}#{_seg(course_id)}"


def version_sk(number: int) -> str:
    return f"V#{number:06d}"


def version_prefix() -> str:
    return "V#"


def library_slug_pk(slug: str) -> str:
    return f"LIB#CSLUG#{_seg(slug)}"


def grant_sk(grantee_id: str) -> str:
    return f"GRANT#{_seg(grantee_id)}"


def grants_gsi1pk(grantee_id: str) -> str:
    return f"{_tenant(grantee_id)}GRANTS"


def package_pk(name: str) -> str:
    """A named content package of the shared library: its member courses and the tenants granted it."""
    return f"LIB#PKG#{_seg(name)}"


def package_course_sk(course_id: str) -> str:
    return f"COURSE#{_seg(course_id)}"


def package_course_prefix() -> str:
    return "COURSE#"


def package_grant_prefix() -> str:
    return "GRANT#"


def package_grant_gsi1sk(name: str) -> str:
    """A package grant in the grantee's grants (course grants sort as COURSE#<c>)."""
    return f"PKG#{_seg(name)}"


def catalog_pk(tenant_id: str) -> str:
    """A tenant's catalog: one entry per course it sees (own, library, its partner's), with its overlay."""
    return f"{_tenant(tenant_id)}CATALOG"


def catalog_course_sk(course_id: str) -> str:
    return f"COURSE#{_seg(course_id)}"


def catalog_course_prefix() -> str:
    return "COURSE#"


def viewers_gsi2pk(owner: str, course_id: str) -> str:
    """The catalog entries of one course across tenants: what a new version fans out to."""
    return f"{_owner(owner)}VIEWERS#{_seg(course_id)}"


def viewer_gsi2sk(tenant_id: str) -> str:
    return _seg(tenant_id)


def upload_pk(owner: str, upload_id: str) -> str:
    return f"{_owner(owner)}UPLOAD#{_seg(upload_id)}"


# bulk user imports (users.imports): the import item and one record per processed chunk in its partition
def user_import_pk(tenant_id: str, import_id: str) -> str:
    return f"{_tenant(tenant_id)}UIMPORT#{_seg(import_id)}"


def user_import_chunk_sk(number: int) -> str:
    """A processed chunk's record (its counts and error rows), in import order."""
    return f"{USER_IMPORT_CHUNK_PREFIX}{number:06d}"


def user_imports_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}UIMPORTS"


def user_imports_gsi1sk(created_at: str, import_id: str) -> str:
    return f"{created_at}#{_seg(import_id)}"


def user_import_object_key(tenant_id: str, import_id: str) -> str:
    """S3: the uploaded CSV, under the uploads prefix (its ObjectCreated event starts the import)."""
    return f"{USER_IMPORT_UPLOADS}{_seg(tenant_id)}/{_seg(import_id)}.csv"


def parse_user_import_object_key(object_key: str) -> tuple[str, str] | None:
    """(tenant id, import id) of an uploaded import CSV's key; None for any other key."""
    if not object_key.startswith(USER_IMPORT_UPLOADS) or not object_key.endswith(".csv"):
        return None
    parts = object_key[len(USER_IMPORT_UPLOADS):-len(".csv")].split("/")
    if len(parts) != 2 or not all(is_safe(p) for p in parts):
        return None
    return parts[0], parts[1]


def user_import_report_key(tenant_id: str, import_id: str) -> str:
    """S3: an import's error report (outside the uploads prefix: writing it starts nothing)."""
    return f"user-imports/{_seg(tenant_id)}/{_seg(import_id)}/errors.csv"


# enrollments and attempts
def enrollment_pk(tenant_id: str, enrollment_id: str) -> str:
    return f"{_tenant(tenant_id)}ENR#{_seg(enrollment_id)}"


def enrollment_claim_sk(course_id: str) -> str:
    """In the user's partition: the one enrollment of the user in a course (uniqueness)."""
    return f"ENRCLAIM#{_seg(course_id)}"


def enrollment_cycle_claim_sk(course_id: str, cycle: float | None) -> str:
    """The one enrollment of the user in a course for a recertification cycle (> 1: `ENRCLAIM#<c>#<cycle>`, so a
    learner who completed the course before is enrolled again, once per cycle); no cycle or 1: the plain claim."""
    if not cycle or int(cycle) <= 1:
        return enrollment_claim_sk(course_id)
    return f"ENRCLAIM#{_seg(course_id)}#{int(cycle)}"


def user_enrollments_gsi1pk(tenant_id: str, user_id: str) -> str:
    return f"{_tenant(tenant_id)}USER#{_seg(user_id)}#ENRS"


def user_enrollments_gsi1sk(created_at: str, enrollment_id: str) -> str:
    return f"{created_at}#{_seg(enrollment_id)}"


def course_enrollments_gsi2pk(tenant_id: str, course_id: str) -> str:
    """A course's enrollments in a tenant (sort key: user_enrollments_gsi1sk)."""
    return f"{_tenant(tenant_id)}CENRS#{_seg(course_id)}"


def rules_pk(tenant_id: str) -> str:
    """A tenant's enrollment rules: few, read together whenever a user changes."""
    return f"{_tenant(tenant_id)}RULES"


def rule_sk(rule_id: str = "") -> str:
    """A rule in its tenant's rules partition; with no id, the prefix of them all."""
    return f"RULE#{_seg(rule_id)}" if rule_id else "RULE#"


def attempt_pk(tenant_id: str, attempt_id: str) -> str:
    return f"{_tenant(tenant_id)}ATTEMPT#{_seg(attempt_id)}"


# learning paths
def path_pk(tenant_id: str, path_id: str) -> str:
    """A path's partition: the path and one member item per course (for the course -> paths index)."""
    return f"{_tenant(tenant_id)}PATH#{_seg(path_id)}"


def path_member_sk(course_id: str) -> str:
    return f"COURSE#{_seg(course_id)}"


def paths_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}PATHS"


def paths_gsi1sk(created_at: str, path_id: str) -> str:
    return f"{created_at}#{_seg(path_id)}"


def course_paths_gsi2pk(tenant_id: str, course_id: str) -> str:
    return f"{_tenant(tenant_id)}CPATHS#{_seg(course_id)}"


def course_path_gsi2sk(path_id: str) -> str:
    return _seg(path_id)


def path_done_sk(path_id: str) -> str:
    """In the user's partition: the user completed the path (written once)."""
    return f"PATHDONE#{_seg(path_id)}"


def path_done_cycle_sk(path_id: str, cycle: float | None) -> str:
    """The user completed the path in a recertification cycle (> 1: `PATHDONE#<p>#<cycle>`, once per cycle);
    no cycle or 1: the plain record, so completions recorded before cycles existed stay valid."""
    if not cycle or int(cycle) <= 1:
        return path_done_sk(path_id)
    return f"{path_done_sk(path_id)}#{int(cycle)}"


def cmi5_fetch_pk(tenant_id: str, token_id: str) -> str:
    """A cmi5 fetch token's one use, and the AU session its LRS credential serves (content.cmi5)."""
    return f"{_tenant(tenant_id)}CMI5FETCH#{_seg(token_id)}"


# CRM inbound (Salesforce outbound messages, HubSpot webhooks): docs/integrations.md
def crm_config_pk(tenant_id: str, source: str) -> str:
    """A tenant's inbound settings for one CRM (salesforce, hubspot): org id or sealed app secret, mapping."""
    return f"{_tenant(tenant_id)}CRMCFG#{_seg(source)}"


def crm_record_pk(tenant_id: str, source: str, record_id: str) -> str:
    """What the platform last knew of one CRM record (its mapped fields, the user it is linked to)."""
    return f"{_tenant(tenant_id)}CRMREC#{_seg(source)}#{_escaped(record_id)}"


def crm_event_pk(tenant_id: str, source: str, event_id: str) -> str:
    """One CRM event (a notification id, a webhook eventId) processed: a replay finds it and does nothing."""
    return f"{_tenant(tenant_id)}CRMEVT#{_seg(source)}#{_escaped(event_id)}"


# SCIM 2.0 (docs/scim.md): bearer tokens and groups (a group's members are the user index entries
# user_attribute_pk(tenant, "group", <g>), kept by users.service.change_groups)
def scim_token_pk(tenant_id: str, token_id: str) -> str:
    return f"{_tenant(tenant_id)}SCIMTOKEN#{_seg(token_id)}"


def scim_tokens_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}SCIMTOKENS"


def scim_tokens_gsi1sk(created_at: str, token_id: str) -> str:
    return f"{created_at}#{_seg(token_id)}"


def group_pk(tenant_id: str, group_id: str) -> str:
    return f"{_tenant(tenant_id)}GROUP#{_seg(group_id)}"


def group_name_pk(tenant_id: str, name: str) -> str:
    """A group's displayName, unique per tenant (case-blind)."""
    return f"{_tenant(tenant_id)}GROUPNAME#{_escaped(name.strip().lower())}"


def groups_gsi1pk(tenant_id: str) -> str:
    return f"{_tenant(tenant_id)}GROUPS"


def group_name_sk(name: str, group_id: str = "") -> str:
    """Sort key of a group in its tenant's list (by name, case-blind); with no id, a name-prefix bound."""
    escaped = _escaped(name.strip().lower())
    return f"{escaped}#{_seg(group_id)}" if group_id else escaped


def health_pk() -> str:
    return f"{_operator()}HEALTH"


def is_safe(value: str) -> bool:
    return bool(_SAFE.match(value))


# S3 object keys (the content bucket) of the LRS: content-addressed, so one copy per tenant and content
def lrs_attachment_key(tenant_id: str, sha2: str) -> str:
    """An attachment's data, by its SHA-2 (lower-case hex): a statement's attachments resolve here."""
    return f"lrs/{_seg(tenant_id)}/attachments/{_seg(sha2)}"


def lrs_statement_key(tenant_id: str, content_hash: str) -> str:
    """A statement too large for its items (they hold this key instead of the JSON)."""
    return f"lrs/{_seg(tenant_id)}/statements/{_seg(content_hash)}.json"


def lrs_document_key(tenant_id: str, content_hash: str) -> str:
    """A state or profile document too large for its item."""
    return f"lrs/{_seg(tenant_id)}/documents/{_seg(content_hash)}"


# certifications (docs/certifications.md)
def cert_program_pk(owner: str, program_id: str) -> str:
    """A tenant's program, or (owner LIBRARY: `LIB#CERTPROG#<p>`) the operator's shared one."""
    return f"{_owner(owner)}CERTPROG#{_seg(program_id)}"


def cert_programs_gsi1pk(owner: str) -> str:
    return f"{_owner(owner)}CERTPROGS"


def cert_programs_gsi1sk(created_at: str, program_id: str) -> str:
    return f"{created_at}#{_seg(program_id)}"


def programs_of_target_gsi2pk(owner: str, target_id: str) -> str:
    """The programs that require a course or a path (a completion looks them up: one Query; a course's
    completion also queries the shared library's, owner LIBRARY: `LIB#CPROGS#<c>`)."""
    return f"{_owner(owner)}CPROGS#{_seg(target_id)}"


def program_sk(program_id: str) -> str:
    return _seg(program_id)


def certificate_pk(tenant_id: str, certificate_id: str) -> str:
    return f"{_tenant(tenant_id)}CERT#{_seg(certificate_id)}"


def user_certificates_gsi1pk(tenant_id: str, user_id: str) -> str:
    return f"{_tenant(tenant_id)}USER#{_seg(user_id)}#CERTS"


def user_certificates_gsi1sk(issued_at: str, certificate_id: str) -> str:
    return f"{issued_at}#{_seg(certificate_id)}"


def cert_due_gsi2pk(day: str, shard: int) -> str:
    """Certificates with something due on `day` (YYYY-MM-DD: a reminder or the expiry), across tenants,
    spread over CERT_DUE_SHARDS partitions; the daily job reads the day's shards: work = what is due."""
    return f"{_operator()}CERTDUE#{day}#{shard:02d}"


def cert_due_gsi2sk(tenant_id: str, certificate_id: str) -> str:
    return f"{_seg(tenant_id)}#{_seg(certificate_id)}"


def cert_claim_sk(program_id: str, cycle: int) -> str:
    """In the user's partition: the one certificate of a program per cycle (issue exactly once)."""
    return f"CERTCLAIM#{_seg(program_id)}#{cycle}"


def job_state_pk(job_name: str) -> str:
    """Operator-level: a scheduled job's progress (the last day it finished), so missed days are caught up."""
    return f"{_operator()}JOB#{_seg(job_name)}"


def cert_id_pk(certificate_id: str) -> str:
    """Operator-level: which tenant a certificate id belongs to (public verification by id alone)."""
    return f"{_operator()}CERTID#{_seg(certificate_id)}"


def certificate_pdf_key(tenant_id: str, certificate_id: str, version: int = 1) -> str:
    """S3 object key of a certificate's PDF rendered from item `version` (one object per version, so a slow
    render of an older version never overwrites a newer one)."""
    return f"certificates/{_seg(tenant_id)}/{_seg(certificate_id)}-v{int(version)}.pdf"


def certificate_export_key(tenant_id: str, export_id: str, extension: str) -> str:
    return f"exports/{_seg(tenant_id)}/certificates/{_seg(export_id)}.{_seg(extension)}"


def certificate_export_pk(tenant_id: str, export_id: str) -> str:
    """An asynchronous certificate export's item (status, cursor, rows; certification.export_job)."""
    return f"{_tenant(tenant_id)}CERTEXPORT#{_seg(export_id)}"


def certificate_export_part_key(tenant_id: str, export_id: str, number: int) -> str:
    """S3: chunk n of an asynchronous export, concatenated into certificate_export_key at the end."""
    return f"exports/{_seg(tenant_id)}/certificates/{_seg(export_id)}.parts/{number:06d}"


# certifications, core (docs/certifications.md): program targets, claims by program, the tenant's certificates
def program_target_sk(target_id: str) -> str:
    """In a program's partition: one item per course, path or statement activity it counts (GSI2 entry)."""
    return f"TARGET#{_seg(target_id)}"


def activity_target_id(activity_hash: str) -> str:
    """The target id of an xAPI activity (a hash of its IRI) in the programs-of-target index."""
    return f"xact-{_seg(activity_hash)}"


def cert_claim_prefix(program_id: str) -> str:
    """The prefix of a user's claims of one program (one per cycle)."""
    return f"CERTCLAIM#{_seg(program_id)}#"


def tenant_certificates_gsi1pk(tenant_id: str) -> str:
    """A tenant's certificates by program (the claims carry it): exports, one program a prefix."""
    return f"{_tenant(tenant_id)}CERTS"


def tenant_certificates_gsi1sk(program_id: str, issued_at: str = "", certificate_id: str = "") -> str:
    """`<p>#<issuedAt>#<c>`; with no issue time, the prefix of one program's certificates."""
    if not issued_at:
        return f"{_seg(program_id)}#"
    return f"{_seg(program_id)}#{issued_at}#{_seg(certificate_id)}"


# partners (docs/partners.md): the operator's tier configuration (margin bands, requirements, benefits)
def partner_tiers_pk() -> str:
    """Operator-level: the one item holding the partner tiers (PARTNER_TIERS_SK); absent means the defaults."""
    return f"{_operator()}PTIERS"


# --- partners: leads (partners.leads, partners.routing) ---
LEAD_ROUTING_SK = "LEADROUTING"  # the operator's lead-routing settings (partners.routing)
LEAD_SK = "LEAD"  # a lead's own item, in lead_pk(lead)
LEAD_EXT_SK = "LEADEXT"  # an inbound lead's external id claim (idempotent POST /v1/leads)
LEAD_DUE_SHARDS = 4


def lead_routing_pk() -> str:
    """Operator-level: the one lead-routing settings item (LEAD_ROUTING_SK); absent means the defaults."""
    return f"{_operator()}LEADROUTING"


def lead_pool_pk() -> str:
    """Operator-level: every partner's routing card (one small item each): routing a lead is one Query of it."""
    return f"{_operator()}LEADPOOL"


def routing_card_sk(partner_id: str) -> str:
    return _seg(partner_id)


def lead_pk(lead_id: str) -> str:
    """A lead's partition: the lead (LEAD_SK), one offer per partner offered it, one decision per routing."""
    return f"{_operator()}LEAD#{_seg(lead_id)}"


def lead_offer_sk(partner_id: str) -> str:
    """The offer of a lead to one partner (each partner is offered a lead at most once)."""
    return f"OFFER#{_seg(partner_id)}"


def lead_decision_sk(attempt: int) -> str:
    """A routing decision (ranked candidates, exclusions), by attempt number."""
    return f"ROUTE#{int(attempt):03d}"


def lead_external_pk(external_id: str) -> str:
    """Operator-level: the lead an inbound source (CRM) knows by its own id (exact case)."""
    return f"{_operator()}LEADEXT#{_escaped(external_id)}"


def leads_by_status_gsi1pk(status: str) -> str:
    """GSI1: the operator's leads in one status, newest first (sort key lead_list_sk)."""
    return f"{_operator()}LEADS#{_seg(status)}"


def all_leads_gsi2pk() -> str:
    """GSI2: every lead, newest first (sort key lead_list_sk)."""
    return f"{_operator()}LEADLIST"


def lead_list_sk(created_at: str, lead_id: str) -> str:
    return f"{created_at}#{_seg(lead_id)}"


def partner_leads_gsi1pk(partner_id: str) -> str:
    """GSI1 on the offers: a partner's offered and owned leads by offer time (sort key lead_event_sk)."""
    return f"{_tenant(partner_id)}LEADS"


def partner_closed_leads_gsi2pk(partner_id: str) -> str:
    """GSI2 on an offer once its lead is won or lost: the partner's closed leads by close time."""
    return f"{_tenant(partner_id)}LEADCLOSED"


def lead_event_sk(at: str, lead_id: str = "") -> str:
    """`<at>#<lead>`; with no lead, a bound of a time range."""
    return f"{at}#{_seg(lead_id)}" if lead_id else at


def lead_due_gsi2pk(bucket: str, shard: int) -> str:
    """GSI2 on an outstanding offer: offers expiring in one quarter-hour bucket (`YYYY-MM-DDTHH:MM`),
    spread over LEAD_DUE_SHARDS partitions; the lead-claim-timeouts job reads the buckets that came due."""
    return f"{_operator()}LEADDUE#{bucket}#{shard % LEAD_DUE_SHARDS:02d}"


def lead_due_gsi2sk(expires_at: str, lead_id: str = "") -> str:
    """`<expiresAt>#<lead>`; with no lead, the upper bound of offers expiring at or before `expires_at`."""
    return f"{expires_at}#{_seg(lead_id)}" if lead_id else f"{expires_at}#~"


# --- partners: brand kits (partners.brandkits) ---
BRAND_KIT_DRAFT_SK = "BKDRAFT"  # a partner's brand-kit draft, in brand_kit_pk(partner)


def brand_kit_pk(partner_id: str) -> str:
    """A partner's brand kit: its draft (BRAND_KIT_DRAFT_SK), submitted versions and audit trail."""
    return f"{_tenant(partner_id)}BRANDKIT"


def brand_kit_versions_prefix() -> str:
    """The sort-key prefix of a partner's submitted brand-kit versions."""
    return "BKV#"


def brand_kit_version_sk(version: int) -> str:
    """`BKV#000007`: zero-padded, so versions sort by number."""
    return f"{brand_kit_versions_prefix()}{int(version):06d}"


def brand_kit_audit_prefix() -> str:
    """The sort-key prefix of a partner's brand-kit audit entries (oldest first)."""
    return "BKAUDIT#"


def brand_kit_audit_sk(at: str, entry_id: str) -> str:
    """`BKAUDIT#<at>#<entryId>`: one entry per action, in time order."""
    return f"{brand_kit_audit_prefix()}{at}#{_seg(entry_id)}"



# --- partners: SLAs (partners.sla) ---
SLA_CALENDAR_SK = "SLACAL"  # a partner's business calendar, in sla_pk(partner)
SLA_POLICY_SK = "SLAPOLICY"  # the operator's SLA hours per severity, in sla_policy_pk()
SUPPORT_CASE_SK = "CASE"  # a support case's own item, in support_case_pk(tenant, case)
SLA_DUE_SHARDS = 4


def sla_pk(partner_id: str) -> str:
    """A partner's SLA items: its business calendar (SLA_CALENDAR_SK); absent means the default calendar."""
    return f"{_tenant(partner_id)}SLA"


def sla_policy_pk() -> str:
    """Operator-level: the SLA policy (hours per severity, SLA_POLICY_SK); absent means the defaults."""
    return f"{_operator()}SLAPOLICY"


def support_case_pk(tenant_id: str, case_id: str) -> str:
    """A customer's support case: the case (SUPPORT_CASE_SK), its responses and its open clocks' due entries."""
    return f"{_tenant(tenant_id)}CASE#{_seg(case_id)}"


def case_response_sk(response_id: str) -> str:
    """`RESP#<id>`: a response to a case; the id is a digest of author and message, so a retry is the same item."""
    return f"RESP#{_seg(response_id)}"


def sla_due_sk(clock: str) -> str:
    """`DUE#response` / `DUE#resolution`: an open clock's entry in the due-time index."""
    return f"DUE#{_seg(clock)}"


def tenant_cases_gsi1pk(tenant_id: str) -> str:
    """GSI1 on a case: the customer's cases by opening time (sort key support_case_list_sk)."""
    return f"{_tenant(tenant_id)}CASES"


def partner_cases_gsi2pk(partner_id: str) -> str:
    """GSI2 on a case: the cases of a partner's customers by opening time (sort key support_case_list_sk)."""
    return f"{_tenant(partner_id)}PCASES"


def support_case_list_sk(opened_at: str, case_id: str = "") -> str:
    """`<openedAt>#<case>`; with no case, a bound of a time range."""
    return f"{opened_at}#{_seg(case_id)}" if case_id else opened_at


def sla_due_gsi1pk(bucket: str, shard: int) -> str:
    """GSI1 on a due entry: SLA clocks falling due in one quarter-hour bucket (`YYYY-MM-DDTHH:MM`), spread
    over SLA_DUE_SHARDS partitions; the sla-breaches job reads the buckets that came due."""
    return f"{_operator()}SLADUE#{bucket}#{shard % SLA_DUE_SHARDS:02d}"


def sla_due_gsi1sk(due_at: str, case_id: str = "", clock: str = "") -> str:
    """`<dueAt>#<case>#<clock>`; with no case, the upper bound of clocks due at or before `due_at`."""
    return f"{due_at}#{_seg(case_id)}#{_seg(clock)}" if case_id else f"{due_at}#~"


def uptime_pk(partner_id: str) -> str:
    """A partner's monthly uptime figures, one item per month (sort key uptime_sk)."""
    return f"{_tenant(partner_id)}UPTIME"


def uptime_sk(month: str) -> str:
    """`YYYY-MM`: months sort in time order."""
    return _seg(month)



# --- partners: scorecards and onboarding (partners.scorecards, partners.onboarding) ---
ONBOARDING_PLAN_SK = "ONBPLAN"  # a partner's onboarding plan (milestones + deliverables), in onboarding_pk(partner)
SCORECARD_CONFIG_SK = "SCORECFG"  # the operator's scorecard thresholds and incentive rules, in scorecard_config_pk()


def onboarding_pk(partner_id: str) -> str:
    """A partner's 12-month onboarding plan: ONE item (ONBOARDING_PLAN_SK), read with one GetItem."""
    return f"{_tenant(partner_id)}ONBOARDING"


def partners_gsi1pk() -> str:
    """GSI1 on each onboarding plan: every partner, one entry each (sort key partner_gsi1sk); the scorecards job
    lists partners here (a Query of partners only, never the tenant directory or a Scan)."""
    return f"{_operator()}PARTNERS"


def partner_gsi1sk(partner_id: str) -> str:
    return _seg(partner_id)


def scorecard_config_pk() -> str:
    """Operator-level: the scorecard thresholds per tier and the incentive rules; absent means the defaults."""
    return f"{_operator()}SCORECFG"


def scorecards_pk(partner_id: str) -> str:
    """A partner's quarterly scorecards (scorecard_sk) and the operator's KPI inputs per quarter (kpi_inputs_sk)."""
    return f"{_tenant(partner_id)}SCORECARDS"


def scorecard_prefix() -> str:
    """The sort-key prefix of a partner's scorecards (quarters sort in time order)."""
    return "SC#"


def scorecard_sk(quarter: str) -> str:
    """`SC#2027q1`: the scorecard of one quarter (`2027Q1`, lower-cased as a key segment)."""
    return f"{scorecard_prefix()}{_seg(quarter.lower())}"


def kpi_inputs_sk(quarter: str) -> str:
    """`KPIIN#2027q1`: the operator's KPI inputs of one quarter (customer satisfaction, renewal rate)."""
    return f"KPIIN#{_seg(quarter.lower())}"
