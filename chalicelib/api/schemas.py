"""Request models (pydantic v2): they validate at the edge and generate the OpenAPI schemas."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.content import MAX_PACKAGE_BYTES

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
                "courses:read", "courses:write", "enrollments:read", "enrollments:write", "learning:play"]
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


class GrantCourse(Strict):
    tenantId: Id
    includeCustomers: bool = Field(False, description="A partner grantee: its customer tenants see it too.")


class CreateEnrollment(Strict):
    """A course (`courseId`) or a learning path (`pathId`: every course of it, prerequisites enforced)."""

    userId: Id
    courseId: Id | None = None
    pathId: Id | None = None
    dueDate: date | None = None


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
