"""Request models (pydantic v2): they validate at the edge and generate the OpenAPI schemas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.content import MAX_PACKAGE_BYTES
from chalicelib.users import MAX_IMPORT_BYTES

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Attr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Password = Annotated[str, StringConstraints(min_length=12, max_length=128)]
TenantRole = Literal["admin", "manager", "learner"]
Scope = Literal["tenants:read", "tenants:write", "users:read", "users:write", "clients:read",
                "clients:write", "xapi:statements:write", "xapi:statements:read:mine", "xapi:statements:read",
                "xapi:state:read", "xapi:state:write", "xapi:profile:read", "xapi:profile:write",
                "courses:read", "courses:write", "enrollments:read", "enrollments:write", "learning:play",
                "integrations:read", "integrations:write", "certifications:read", "certifications:write",
                "leads:read", "leads:write", "support:read", "support:write", "partners:read", "partners:write"]
XapiScope = Literal["statements/write", "statements/read", "statements/read/mine", "state", "define", "profile",
                    "all/read", "all"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PageQuery(Strict):
    limit: int = Field(25, ge=1, le=100, description="Page size (at most 100).")
    cursor: str | None = Field(None, max_length=2048, description="The `nextCursor` of the previous page.")


class Branding(Strict):
    displayName: Name | None = None
    primaryColor: Color | None = None
    accentColor: Color | None = None
    textColor: Color | None = None
    logoUrl: Annotated[str, StringConstraints(max_length=2048, pattern=r"^(https://|/)\S+$")] | None = None
    font: Literal["Helvetica", "Times", "Courier", "DejaVu"] | None = None


class CreateTenant(Strict):
    name: Name
    slug: Slug
    template: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
    parentTenantId: Id | None = Field(None, description="Operator only: the partner that owns the tenant.")
    branding: Branding | None = None


class UpdateTenant(Strict):
    name: Name | None = None
    branding: Branding | None = None
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[a-z]+-\d$")] | None = None
    reminderDays: list[Annotated[int, Field(ge=1, le=365)]] | None = Field(None, max_length=6)


class TenantListQuery(PageQuery):
    parentTenantId: Id | None = None


class UserAttributes(Strict):
    """The attributes that later drive automatic enrollment."""

    salesRole: Attr | None = None
    region: Attr | None = None
    department: Attr | None = None
    managerId: Id | None = None
    hireDate: date | None = None


class CreateUser(UserAttributes):
    email: Email
    displayName: Name
    roles: list[TenantRole] = Field(default=["learner"], min_length=1, max_length=3)
    password: Password | None = None

    @field_validator("roles")
    @classmethod
    def _unique(cls, roles: list[str]) -> list[str]:
        if len(set(roles)) != len(roles):
            raise ValueError("roles must not repeat")
        return roles


class UpdateUser(UserAttributes):
    email: Email | None = None
    displayName: Name | None = None
    roles: list[TenantRole] | None = Field(None, min_length=1, max_length=3)
    password: Password | None = None


Username = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]


class ProvisionUser(CreateUser):
    """A user from a provisioning source (SCIM): a username; an email only if the source has one (without
    it the person cannot log in with a password, only through SSO). Not a REST body."""

    email: Email | None = None  # type: ignore[assignment]
    username: Username
    sourceProfile: dict[str, Any] | None = None


class UpdateProvisionedUser(UpdateUser):
    """UpdateUser for a provisioning source: also the username and the source's own profile."""

    username: Username | None = None
    sourceProfile: dict[str, Any] | None = None


class UserListQuery(PageQuery):
    managerId: Id | None = Field(None, description="Only this manager's direct reports.")
    emailPrefix: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = None


class CreateClient(Strict):
    name: Name
    scopes: list[Scope] = Field(min_length=1, max_length=64)


class CreateSession(Strict):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class CreateLrsCredential(Strict):
    name: Name
    scopes: list[XapiScope] = Field(default=["all"], min_length=1, max_length=8,
                                    description="xAPI scopes (xAPI 1.0.3 §4.1.1.2 of Part Three).")


class CreateScimToken(Strict):
    name: Name = Field(description="What the token is for (e.g. the identity provider's app).")


class PutXapiForwarding(Strict):
    endpoint: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)] = Field(
        description="The external LRS's xAPI base URL (statements are POSTed to `<endpoint>/statements`); https.")
    username: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        None, description="HTTP Basic, with `password` (left out: the stored password is kept).")
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = Field(
        None, description="Write-only: never returned (`hasSecret`).")
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = Field(
        None, description="A Bearer token instead of Basic credentials; write-only.")
    enabled: bool = True


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class CreateCourse(Strict):
    title: Name
    description: Text | None = None
    slug: Slug | None = Field(None, description="Shared library only: a stable name templates refer to.")
    allowSelfEnroll: bool = False
    shareWithCustomers: bool = Field(False, description="A partner's course: its customer tenants see it too.")
    packages: list[Slug] = Field(default_factory=list, max_length=20, description=(
        "Shared library only: the named content packages (e.g. a tier's bundle) the course belongs to."))


class UpdateCourse(Strict):
    """Owners change the course; tenants that see someone else's course set their overlay (title,
    description, introText, hiddenLessons, allowSelfEnroll), which survives new versions."""

    title: Name | None = None
    description: Text | None = None
    allowSelfEnroll: bool | None = None
    shareWithCustomers: bool | None = None
    status: Literal["active", "archived"] | None = None
    packages: list[Slug] | None = Field(None, max_length=20, description="Shared library only.")
    introText: Text | None = None
    hiddenLessons: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Field(
        None, max_length=200, description="SCO ids the tenant's learners don't see.")


class CreateUpload(Strict):
    fileName: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\\]+\.zip$")] = \
        "package.zip"
    sizeBytes: int | None = Field(None, ge=1, le=MAX_PACKAGE_BYTES, description="The package's size, if known.")


class CreateUserImport(Strict):
    fileName: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\\]+\.csv$")] = \
        "users.csv"
    sizeBytes: int | None = Field(None, ge=1, le=MAX_IMPORT_BYTES, description="The CSV's size, if known.")


class GrantCourse(Strict):
    tenantId: Id
    includeCustomers: bool = Field(False, description="A partner grantee: its customer tenants see it too.")


class CreateEnrollment(Strict):
    """A course (`courseId`) or a learning path (`pathId`: every course of it, prerequisites enforced)."""

    userId: Id
    courseId: Id | None = None
    pathId: Id | None = None
    dueDate: date | None = None


class RuleCondition(Strict):
    """One condition over a user's attributes: `eq` / `in` (case-blind) for salesRole, region, department and
    group (a group id); `withinDays` for hireDate (hired at most `days` days ago)."""

    attribute: Literal["salesRole", "region", "department", "group", "hireDate"]
    op: Literal["eq", "in", "withinDays"]
    value: Attr | None = None
    values: list[Attr] | None = Field(None, min_length=1, max_length=20)
    days: int | None = Field(None, ge=0, le=3650)

    @model_validator(mode="after")
    def _shape(self) -> RuleCondition:
        wanted = {"eq": "value", "in": "values", "withinDays": "days"}[self.op]
        if (self.attribute == "hireDate") != (self.op == "withinDays"):
            raise ValueError("hireDate takes op `withinDays`; the other attributes `eq` or `in`")
        given = {name for name in ("value", "values", "days") if getattr(self, name) is not None}
        if given != {wanted}:
            raise ValueError(f"op `{self.op}` takes exactly `{wanted}`")
        return self


class CreateEnrollmentRule(Strict):
    """Enroll every active user who meets all `conditions` (none: everyone) in a course or a learning path."""

    name: Name
    conditions: list[RuleCondition] = Field(default=[], max_length=10)
    courseId: Id | None = None
    pathId: Id | None = None
    dueInDays: int | None = Field(None, ge=1, le=3650, description="Due this many days after enrolling.")
    active: bool = True


class UpdateEnrollmentRule(Strict):
    name: Name | None = None
    conditions: list[RuleCondition] | None = Field(None, max_length=10)
    courseId: Id | None = None
    pathId: Id | None = None
    dueInDays: int | None = Field(None, ge=1, le=3650)
    active: bool | None = None


class EnrollmentListQuery(PageQuery):
    courseId: Id | None = Field(None, description="A course's enrollments (admins).")
    userId: Id | None = Field(None, description="A user's enrollments (as GET …/users/{userId}/enrollments).")
    status: Literal["enrolled", "in_progress", "completed", "failed", "withdrawn", "expired"] | None = None


class PathCourse(Strict):
    courseId: Id
    prerequisites: list[Id] = Field(default_factory=list, max_length=50,
                                    description="Courses earlier in the path to complete first.")


class CreatePath(Strict):
    title: Name
    description: Text | None = None
    courses: list[PathCourse] = Field(min_length=1, max_length=50, description="In order.")


class UpdatePath(Strict):
    title: Name | None = None
    description: Text | None = None


# CRM inbound (integrations.crm): CRM field -> user field, per tenant and CRM
CrmField = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]
CrmTarget = Literal["email", "displayName", "firstName", "lastName", "salesRole", "region", "department",
                    "hireDate", "manager"]


class CrmDeactivateWhen(Strict):
    field: CrmField
    equals: Annotated[str, StringConstraints(max_length=255)] = Field(
        description="Compared case-blind with the field's value as text (`false` for a checkbox).")


class PutSalesforceIntegration(Strict):
    organizationId: Annotated[str, StringConstraints(pattern=r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")] = Field(
        description="The Salesforce org's id (15 or 18 characters); outbound messages of other orgs get a 401.")
    fieldMapping: dict[CrmField, CrmTarget] | None = Field(
        None, max_length=40, description="Salesforce field -> user field; omitted: the defaults.")
    objectTypes: list[CrmField] | None = Field(None, min_length=1, max_length=10)
    deactivateWhen: CrmDeactivateWhen | None = None


class PutHubspotIntegration(Strict):
    appSecret: Annotated[str, StringConstraints(min_length=8, max_length=256)] | None = Field(
        None, description="The HubSpot app's client secret (write-only); omitted: the stored one is kept.")
    portalId: int | None = Field(None, ge=1, description="Only events of this HubSpot account are accepted.")
    fieldMapping: dict[CrmField, CrmTarget] | None = Field(
        None, max_length=40, description="HubSpot contact property -> user field; omitted: the defaults.")
    deactivateWhen: CrmDeactivateWhen | None = None


# certifications (docs/certifications.md)
Iri = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048,
                                       pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")]


class CourseRequirement(Strict):
    kind: Literal["course"]
    courseId: Id
    minScore: float | None = Field(None, ge=0, le=100, description="The least score (percent) that counts.")


class PathRequirement(Strict):
    kind: Literal["path"]
    pathId: Id


class StatementsRequirement(Strict):
    """At least `count` statements of the learner with this verb about this activity (in the last `withinDays`)."""

    kind: Literal["statements"]
    verb: Iri
    activityId: Iri
    count: int = Field(1, ge=1, le=200)
    withinDays: int | None = Field(None, ge=1, le=3650)


Requirement = Annotated[CourseRequirement | PathRequirement | StatementsRequirement, Field(discriminator="kind")]


class Recertification(Strict):
    courseId: Id | None = None
    pathId: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> Recertification:
        if (self.courseId is None) == (self.pathId is None):
            raise ValueError("give exactly one of courseId and pathId")
        return self


ReminderDays = Annotated[list[Annotated[int, Field(ge=1, le=3650)]], Field(min_length=0, max_length=10)]


class CreateCertification(Strict):
    name: Name
    description: Text | None = None
    requirements: list[Requirement] = Field(min_length=1, max_length=20)
    validityDays: int | None = Field(None, ge=1, le=36500, description="Omitted: the certificate never expires.")
    reminderDays: ReminderDays | None = Field(None, description="Days before expiry; default: the tenant's.")
    graceDays: int = Field(0, ge=0, le=3650)
    recertification: Recertification | None = None


class UpdateCertification(Strict):
    name: Name | None = None
    description: Text | None = None
    requirements: list[Requirement] | None = Field(None, min_length=1, max_length=20)
    validityDays: int | None = Field(None, ge=1, le=36500)
    reminderDays: ReminderDays | None = None
    graceDays: int | None = Field(None, ge=0, le=3650)
    recertification: Recertification | None = None
    status: Literal["active", "archived"] | None = None


class RevokeCertificate(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CertificateExportQuery(Strict):
    format: Literal["csv", "json"] = "json"
    certificationId: Id | None = Field(None, description="One program's certificates only.")
    async_: bool = Field(False, alias="async", description="Admins: build the export in the background (202 "
                         "and a status URL); exports of more than 20,000 certificates always are.")


class CertificatePdfQuery(Strict):
    redirect: bool = Field(True, description="false: answer {url, expiresIn} instead of a 302 to the URL.")


# --- partners: tiers and quotes (docs/partners.md) ----------------------------------------------------
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("100000000"), max_digits=11, decimal_places=2)]


class MarginBand(Strict):
    min: Percent = Field(description="Lowest margin percent of the tier (0-100, at most 2 decimals).")
    max: Percent = Field(description="Highest margin percent of the tier (not below min).")


class TierRequirements(Strict):
    certifiedReps: int = Field(0, ge=0, le=100_000, description="Certified reps the partner must have.")
    annualRevenue: Money = Field(Decimal(0), description="Annual partner-sourced revenue to enter the tier.")
    slaAdherencePercent: Percent = Field(Decimal(0), description="SLA adherence record needed (percent).")


class PartnerTier(Strict):
    id: Id
    name: Name
    marginBand: MarginBand
    requirements: TierRequirements = Field(default_factory=lambda: TierRequirements.model_validate({}))
    benefits: list[Attr] = Field(default_factory=list, max_length=20)


class VolumeBand(Strict):
    fromSeats: int = Field(ge=1, le=1_000_000, description="First seat count of the band (the first band: 1).")
    percent: Percent = Field(description="Discount on list price + content licensing, percent.")


Points = Annotated[Decimal, Field(ge=0, le=20, max_digits=4, decimal_places=2)]


class EscalatorPoints(Strict):
    green: Points
    amber: Points
    red: Points


class PricingTerms(Strict):
    """The quote calculator's terms (docs/partners.md, Quotes); every tier's quotes use them."""

    volumeBands: list[VolumeBand] = Field(min_length=1, max_length=10,
                                          description="Ascending by fromSeats; the first starts at 1 seat.")
    acceleratorPointsPerYear: Points = Field(description="Margin points per committed year after the first.")
    acceleratorMaxPoints: Points = Field(description="At most this many accelerator points.")
    escalatorPoints: EscalatorPoints = Field(description="Margin points by performance rating.")


class PartnerTiers(Strict):
    """Every tier, lowest first (the first is where partners without a tier are)."""

    tiers: list[PartnerTier] = Field(min_length=1, max_length=10)
    pricing: PricingTerms | None = Field(None, description="The quote terms; absent: the current terms stay.")


class AssignPartnerTier(Strict):
    tier: Id = Field(description="The id of one of the operator's tiers (GET /v1/partner-tiers).")


class CreateQuote(Strict):
    seats: int = Field(ge=1, le=1_000_000, description="Seats (users) quoted.")
    listPricePerSeat: Money = Field(description="LMS list price per seat per year.")
    contentLicensingPerSeat: Money = Field(Decimal(0), description="Content licensing per seat per year.")
    managedServices: Money = Field(Decimal(0), description="Managed services per year (a flat amount).")
    termYears: int = Field(1, ge=1, le=5, description="Annual commitment in years (the accelerator).")
    requestedMarginPercent: Percent | None = Field(
        None, description="The margin the partner asks for; clamped to its tier's band. Default: the band's floor.")
    performanceRating: Literal["green", "amber", "red"] | None = Field(
        None, description="The partner's current performance rating (the escalator).")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"


# --- partners: leads (partners.leads, partners.routing) ---
LeadText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
LeadStatus = Literal["offered", "claimed", "escalated", "won", "lost"]


class DealSizeBand(Strict):
    min: Money = Field(Decimal(0), description="Smallest deal size the tier is offered.")
    max: Money | None = Field(None, description="Largest deal size the tier is offered (null: no limit).")


class TierLeadTerms(Strict):
    claimWindowHours: int = Field(ge=24, le=48, description="Hours a partner of the tier has to claim an offer.")
    dealSize: DealSizeBand = Field(default_factory=lambda: DealSizeBand.model_validate({}))


class ChannelManager(Strict):
    name: Name
    email: Email


class LargeDealWindow(Strict):
    fromDealSize: Money = Field(description="Deals of at least this size get at least `claimWindowHours`.")
    claimWindowHours: int = Field(ge=24, le=48, description="Their claim window, whatever the tier's is shorter.")


class ScoreWeights(Strict):
    industry: int = Field(25, ge=0, le=100)
    region: int = Field(15, ge=0, le=100)
    product: int = Field(10, ge=0, le=100)
    certification: int = Field(10, ge=0, le=100)
    capacity: int = Field(15, ge=0, le=100)
    claimRate: int = Field(15, ge=0, le=100)
    tier: int = Field(10, ge=0, le=100)


class LeadRoutingSettings(Strict):
    """The operator's lead routing: what is absent takes its default (docs/partners.md, Lead routing)."""

    requiredProgramId: Id | None = Field(None, description="A shared certification program (`sp-…`) a partner "
                                         "must hold currently to be offered leads; null: no certification gate.")
    minCertifiedReps: int = Field(1, ge=1, le=1000, description="Current certificates of that program needed.")
    maxAttempts: int = Field(3, ge=1, le=10, description="Offers before the lead escalates to the channel manager.")
    channelManager: ChannelManager | None = None
    tierTerms: dict[Id, TierLeadTerms] | None = Field(None, description="Per tier id: claim window, deal sizes.")
    largeDeal: LargeDealWindow | None = Field(None, description="A longer claim window for large deals (by size).")
    weights: ScoreWeights | None = None


class RoutingProfile(Strict):
    industries: list[LeadText] = Field(default_factory=list, max_length=30, description="`*`: any industry.")
    regions: list[LeadText] = Field(default_factory=list, max_length=30, description="`*`: any region.")
    products: list[LeadText] = Field(default_factory=list, max_length=30, description="`*`: any product.")
    maxOpenLeads: int = Field(10, ge=0, le=10_000, description="Capacity: offered + claimed leads not yet closed.")
    accepting: bool = True


class LeadCompany(Strict):
    name: Name
    website: Annotated[str, StringConstraints(max_length=300)] | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000)


class LeadContact(Strict):
    name: Name
    email: Email | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    title: Annotated[str, StringConstraints(max_length=120)] | None = None


class CreateLead(Strict):
    externalId: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="The source's own id: the same externalId returns the same lead (200).")
    industry: LeadText
    region: LeadText
    product: LeadText
    dealSize: Money = Field(description="Expected deal value (at most 2 decimals).")
    company: LeadCompany | None = None
    contact: LeadContact | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None
    source: Annotated[str, StringConstraints(max_length=80)] | None = None


class LeadOutcome(Strict):
    status: Literal["won", "lost"]
    amount: Money | None = Field(None, description="Won: the contract's annual value (default: the deal size).")


class LeadListQuery(PageQuery):
    status: LeadStatus | None = None


# --- partners: brand kits (partners.brandkits) ---
KitLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
KitText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
KitBody = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class BrandKitColors(Strict):
    primary: Color = Field(description="Headers and bands; white text on it needs 3:1 contrast.")
    accent: Color = Field(description="Buttons; `text` on it needs 3:1 contrast.")
    text: Color = Field(description="Body text on white; needs 4.5:1 contrast (WCAG AA).")


class BrandKitEmailTemplates(Strict):
    welcomeSubject: KitLine = Field(description="Onboarding email subject (placeholders: docs/partners.md).")
    welcomeBody: KitBody = Field(description="Onboarding email body.")
    footer: KitText | None = Field(None, description="Footer of every email to the partner's customers.")


class BrandKitDocumentTemplate(Strict):
    certificateFooter: KitLine = Field(description="A line at the foot of certificates.")
    documentFooter: KitText | None = Field(None, description="Footer of other documents.")


class BrandKitSupport(Strict):
    email: Email
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ().-]{4,29}$")] | None = None
    hours: KitLine = Field(description="When support answers, e.g. `Mon-Fri 9:00-17:00 CET`.")
    message: KitText = Field(description="What customers read about getting help.")


class BrandKit(Strict):
    """A partner's brand kit (the whole draft: PUT replaces it)."""

    displayName: Name
    logoUrl: Annotated[str, StringConstraints(max_length=2048, pattern=r"^(https://|/content/)[^\s\"'<>]+$")] = Field(
        description="An https URL, or a public asset of the content bucket (`/content/...`).")
    colors: BrandKitColors
    emailTemplates: BrandKitEmailTemplates
    documentTemplate: BrandKitDocumentTemplate
    support: BrandKitSupport


class BrandKitChangeRequest(Strict):
    comments: list[KitText] | None = Field(None, max_length=20, description="What must change (required).")
    comment: KitText | None = Field(None, description="One comment (instead of `comments`).")


# --- partners: SLAs (partners.sla) ---
HHMM = Annotated[str, StringConstraints(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(?:0[1-9]|1[0-2])$")]
CaseText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Severity = Literal["high", "medium", "low"]


class SlaWorkingHours(Strict):
    start: HHMM = Field(description="Local opening time, HH:MM.")
    end: HHMM = Field(description="Local closing time, HH:MM (24:00: midnight); after `start`.")


class SlaCalendarBody(Strict):
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+/-]*$")] = (
        Field(description="An IANA time zone, e.g. Europe/Berlin."))
    workingDays: list[Weekday] = Field(min_length=1, max_length=7, description="Working weekdays (mon..sun).")
    workingHours: SlaWorkingHours
    holidays: list[date] = Field(default_factory=list, max_length=400, description="Dates with no working time.")


class SlaClockHours(Strict):
    responseHours: int = Field(ge=1, le=1000, description="Business hours to the first response.")
    resolutionHours: int = Field(ge=1, le=5000, description="Business hours to resolution.")


class SlaPolicyBody(Strict):
    high: SlaClockHours
    medium: SlaClockHours
    low: SlaClockHours


class OpenSupportCase(Strict):
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: CaseText
    severity: Severity


class SupportCaseReply(Strict):
    message: CaseText


class ResolveSupportCase(Strict):
    resolution: CaseText


class SupportCaseListQuery(PageQuery):
    status: Literal["open", "responded", "resolved"] | None = None
    breached: bool | None = Field(None, description="Only cases with (true) or without (false) a breached clock.")


class PutUptime(Strict):
    percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)] = Field(
        description="The month's measured uptime, 0-100 with at most 3 decimals.")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class UptimeQuery(Strict):
    from_: Month | None = Field(None, alias="from", description="First month, YYYY-MM.")
    to: Month | None = Field(None, description="Last month, YYYY-MM (inclusive).")



# --- partners: scorecards and onboarding (partners.scorecards, partners.onboarding) ---
KpiId = Literal["certifiedReps", "pipeline", "newArr", "claimRate", "timeToClaim", "winRate", "slaAdherence",
                "uptime", "customerSatisfaction", "renewalRate", "onboarding"]
IncentiveId = Literal["marketingFunds", "coSellingSupport", "marginIncrease"]


class PutKpiInputs(Strict):
    """The operator's figures of a partner's quarter that the platform cannot measure."""

    customerSatisfactionPercent: Percent | None = Field(
        None, description="CSAT: the share (0-100) of the partner's customers' survey answers that were satisfied "
                          "(4 or 5 of 5) in the quarter.")
    renewalRatePercent: Percent | None = Field(
        None, description="Subscriptions due for renewal in the quarter that renewed, percent (0-100).")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None

    @model_validator(mode="after")
    def _one_figure(self) -> PutKpiInputs:
        if self.customerSatisfactionPercent is None and self.renewalRatePercent is None:
            raise ValueError("give customerSatisfactionPercent, renewalRatePercent or both")
        return self


class KpiThreshold(Strict):
    green: Money = Field(description="Green from this value (at most this value for timeToClaim).")
    amber: Money = Field(description="Amber from this value (at most this value for timeToClaim); below: red.")


class IncentiveRule(Strict):
    maxRed: int = Field(ge=0, le=11, description="Red KPIs allowed at most.")
    minGreen: int = Field(ge=0, le=11, description="Green KPIs needed at least.")
    notRed: list[KpiId] = Field(default_factory=list, max_length=11, description="KPIs that must not be red.")


class ScorecardThresholds(Strict):
    """Thresholds per tier id and KPI (a KPI or tier left out keeps its default) and the incentive rules."""

    tiers: dict[Id, dict[KpiId, KpiThreshold]] = Field(max_length=10)
    incentives: dict[IncentiveId, IncentiveRule] = Field(default_factory=dict)
