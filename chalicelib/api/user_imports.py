"""Bulk user import routes: start an import (a presigned POST for the CSV), follow it, list them."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
imports = lazy("chalicelib.users.imports")
TAG = "Users"
BASE = "/v1/tenants/{tenantId}/user-imports"


@route(bp, "POST", BASE, summary="Start a bulk user import: a presigned POST for the CSV (admins)", tag=TAG,
       scope="users:write", body="CreateUserImport", status=201, responses=(400, 403))
def create_import(call: Call) -> Any:
    made = imports.create_import(call.ctx, call.body)
    return Reply(made, 201, {"Location": f"/v1/tenants/{call.params['tenantId']}/user-imports/{made['id']}"})


@route(bp, "GET", BASE, summary="List the tenant's user imports, newest first", tag=TAG, scope="users:read",
       query="PageQuery", responses=(403,))
def list_imports(call: Call) -> Any:
    return imports.list_imports(call.ctx, call.query)


@route(bp, "GET", BASE + "/{importId}",
       summary="A user import's status, counts and progress; when completed, its error report (a CSV URL)",
       tag=TAG, scope="users:read", responses=(403,))
def get_import(call: Call) -> Any:
    return imports.get_import(call.ctx, call.params["importId"])
