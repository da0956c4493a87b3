"""Tenant routes: create from templates, read, change, list, suspend/resume, sandbox."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
tenancy = lazy("chalicelib.tenancy.service")
sandbox = lazy("chalicelib.tenancy.sandbox")
TAG = "Tenants"


@route(bp, "POST", "/v1/tenants", summary="Create a tenant from a template", tag=TAG,
       scope="tenants:write", body="CreateTenant", status=201, responses=(400, 403, 409))
def create_tenant(call: Call) -> Any:
    tenant = tenancy.create_tenant(call.principal, call.body, call.correlation_id)
    return Reply(tenant, 201, {"Location": f"/v1/tenants/{tenant['id']}"})


@route(bp, "GET", "/v1/tenants", summary="List tenants (operator: all; partner admin: its customers)",
       tag=TAG, scope="tenants:read", query="TenantListQuery", responses=(403,))
def list_tenants(call: Call) -> Any:
    return tenancy.list_tenants(call.principal, call.query)


@route(bp, "GET", "/v1/tenants/{tenantId}", summary="Get a tenant", tag=TAG, scope="tenants:read")
def get_tenant(call: Call) -> Any:
    return tenancy.get_tenant(call.ctx)


@route(bp, "PATCH", "/v1/tenants/{tenantId}", summary="Change a tenant's name, branding, region, reminders",
       tag=TAG, scope="tenants:write", body="UpdateTenant", responses=(400, 403, 409))
def update_tenant(call: Call) -> Any:
    return tenancy.update_tenant(call.ctx, call.body)


@route(bp, "POST", "/v1/tenants/{tenantId}/suspend", summary="Suspend a tenant (its tokens stop working)",
       tag=TAG, scope="tenants:write", responses=(403,))
def suspend_tenant(call: Call) -> Any:
    return tenancy.set_status(call.ctx, "suspended")


@route(bp, "POST", "/v1/tenants/{tenantId}/resume", summary="Resume a suspended tenant", tag=TAG,
       scope="tenants:write", responses=(403,))
def resume_tenant(call: Call) -> Any:
    return tenancy.set_status(call.ctx, "active")


@route(bp, "POST", "/v1/tenants/{tenantId}/sandbox", summary="Create (or get) the tenant's sandbox",
       tag=TAG, scope="tenants:write", status=201, responses=(403, 409))
def create_sandbox(call: Call) -> Any:
    tenant, created = sandbox.create_sandbox(call.ctx)
    return Reply(tenant, 201 if created else 200, {"Location": f"/v1/tenants/{tenant['id']}"})


@route(bp, "GET", "/v1/tenants/{tenantId}/sandbox", summary="Get the tenant's sandbox", tag=TAG,
       scope="tenants:read")
def get_sandbox(call: Call) -> Any:
    return sandbox.get_sandbox(call.ctx)


@route(bp, "POST", "/v1/tenants/{tenantId}/sandbox/reset",
       summary="Reset the sandbox: a fresh, empty sandbox replaces the old one", tag=TAG,
       scope="tenants:write", responses=(403, 404, 409))
def reset_sandbox(call: Call) -> Any:
    return sandbox.reset_sandbox(call.ctx)
