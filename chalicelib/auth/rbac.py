"""The one authorisation decision: (principal, path tenant, action) -> TenantContext or an error.

A tenant the caller has no relation to is a 404 with no data (its existence is not revealed);
a related tenant with a missing right is a 403.
"""

from __future__ import annotations

import re

from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.tenancy.cache import TenantRecord, tenant_record

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_INACTIVE = {"suspended", "retired"}


def check_principal_active(principal: Principal) -> None:
    """A suspended (or retired) tenant's tokens stop working: checked on every request, cached."""
    if principal.tenant_id is None:
        return
    record = tenant_record(principal.tenant_id)
    if record is None or record.status in _INACTIVE:
        raise Unauthenticated("This token's tenant is suspended or no longer exists.",
                              headers={"WWW-Authenticate": 'Bearer realm="onramp", error="invalid_token"'})


def _relation(principal: Principal, record: TenantRecord) -> str | None:
    if principal.is_operator:
        return "operator"
    mine = principal.tenant_id
    if record.id == mine:
        return "own"
    if record.sandbox_of == mine:
        return "sandbox"
    if principal.is_partner_admin:
        owner = record.sandbox_of and tenant_record(record.sandbox_of)
        parent = owner.parent_id if owner else record.parent_id
        if parent == mine:
            return "customer"
    return None


def authorize(principal: Principal, tenant_id: str, scope: str, correlation_id: str = "") -> TenantContext:
    if not _ID.match(tenant_id):
        raise NotFound("No such tenant.")
    record = tenant_record(tenant_id)
    relation = _relation(principal, record) if record else None
    if record is None or relation is None:
        raise NotFound("No such tenant.")
    require_scope(principal, scope)
    return TenantContext(tenant_id=tenant_id, principal=principal, relation=relation,
                         correlation_id=correlation_id, tenant_kind=record.kind)


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Forbidden(f"This token does not carry the `{scope}` scope.")
