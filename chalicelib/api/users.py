"""User routes: create, list, read, change, deactivate/reactivate within a tenant."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
users = lazy("chalicelib.users.service")
TAG = "Users"
BASE = "/v1/tenants/{tenantId}/users"


@route(bp, "POST", BASE, summary="Create a user", tag=TAG, scope="users:write", body="CreateUser",
       status=201, responses=(400, 403, 409))
def create_user(call: Call) -> Any:
    user = users.create_user(call.ctx, call.body)
    return Reply(user, 201, {"Location": f"/v1/tenants/{call.params['tenantId']}/users/{user['id']}"})


@route(bp, "GET", BASE, summary="List users (managers: their reports)", tag=TAG, scope="users:read",
       query="UserListQuery", responses=(403,))
def list_users(call: Call) -> Any:
    return users.list_users(call.ctx, call.query)


@route(bp, "GET", BASE + "/{userId}", summary="Get a user", tag=TAG, scope="users:read")
def get_user(call: Call) -> Any:
    return users.get_user(call.ctx, call.params["userId"])


@route(bp, "PATCH", BASE + "/{userId}", summary="Change a user (JSON merge patch)", tag=TAG,
       scope="users:write", body="UpdateUser", responses=(400, 403, 409))
def update_user(call: Call) -> Any:
    return users.update_user(call.ctx, call.params["userId"], call.body)


@route(bp, "POST", BASE + "/{userId}/deactivate", summary="Deactivate a user", tag=TAG,
       scope="users:write", responses=(403,))
def deactivate_user(call: Call) -> Any:
    return users.set_status(call.ctx, call.params["userId"], "deactivated")


@route(bp, "POST", BASE + "/{userId}/reactivate", summary="Reactivate a user", tag=TAG,
       scope="users:write", responses=(403,))
def reactivate_user(call: Call) -> Any:
    return users.set_status(call.ctx, call.params["userId"], "active")
