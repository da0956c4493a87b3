"""Who is calling: the verified token as a Principal, and the request's TenantContext."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant_id: str | None  # None only for the operator
    roles: frozenset[str]
    scopes: frozenset[str]
    token_id: str = ""
    kind: str = "user"  # user | client | operator

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles and self.tenant_id is None

    @property
    def is_partner_admin(self) -> bool:
        return "partner_admin" in self.roles

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & {"operator", "partner_admin", "admin"})

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class TenantContext:
    """The tenant a request acts in, with the principal allowed there and how it is related."""

    tenant_id: str
    principal: Principal
    relation: str  # operator | own | sandbox | customer
    correlation_id: str = ""
    tenant_kind: str = "customer"
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def acts_as_admin(self) -> bool:
        """Admin rights inside this tenant: its admins, its partner's admins, the operator."""
        return self.principal.is_admin


def system_context(tenant_id: str, subject: str, correlation_id: str = "") -> TenantContext:
    """The platform itself acting in a tenant with admin rights (provisioning from SCIM or a CRM, rules,
    imports, course outcomes in the LRS); `subject` names it in events and authorities (`system:scim`)."""
    from chalicelib.auth.scopes import ALL

    principal = Principal(subject=subject, tenant_id=tenant_id, roles=frozenset({"admin"}), scopes=ALL, kind="client")
    return TenantContext(tenant_id=tenant_id, principal=principal, relation="own", correlation_id=correlation_id)
