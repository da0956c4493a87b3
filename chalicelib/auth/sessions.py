"""People log in with email and password and get the same kind of access token as SSO will give."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth import tokens
from chalicelib.auth.passwords import verify_password
from chalicelib.auth.principal import Principal
from chalicelib.auth.scopes import scopes_for_roles
from chalicelib.clock import iso, utcnow
from chalicelib.errors import NotFound, TooManyRequests, Unauthenticated
from chalicelib.store import keys
from chalicelib.store.models import EmailClaim, User
from chalicelib.tenancy.cache import tenant_record

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_TTL = 900  # people's tokens are short-lived: a deactivated user is out within 15 minutes


def _wrong() -> Unauthenticated:
    return Unauthenticated("The email or password is wrong.", headers={"WWW-Authenticate": 'Bearer realm="onramp"'})


def _find(tenant_id: str, email: str) -> User | None:
    try:
        claim = EmailClaim.get(keys.email_pk(tenant_id, email), keys.EMAIL_SK)
        return User.get(keys.user_pk(tenant_id, claim.user_id), keys.USER_SK)
    except Model.DoesNotExist:
        return None


def roles_for(user: User, tenant_kind: str, is_sandbox: bool) -> frozenset[str]:
    roles = set(user.roles)
    if "admin" in roles and tenant_kind == "partner" and not is_sandbox:
        roles.add("partner_admin")  # a partner's admins also administer its customer tenants
    return frozenset(roles)


def login(tenant_id: str, email: str, password: str) -> dict[str, Any]:
    record = tenant_record(tenant_id)
    if record is None or record.status != "active":
        raise NotFound("No such tenant.")
    user = _find(tenant_id, email)
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > iso(now):
        raise TooManyRequests("Too many failed logins; try again later.",
                              headers={"Retry-After": str(int(LOCKOUT.total_seconds()))})
    if not verify_password(password, user.password_hash if user else None) or user is None \
            or user.status != "active":
        if user is not None:
            _record_failure(user, now)
        observability.count("LoginFailed")
        raise _wrong()
    if user.failed_logins:
        user.update(actions=[User.failed_logins.set(0), User.locked_until.remove()])
    roles = roles_for(user, record.kind, bool(record.sandbox_of))
    principal = Principal(subject=user.id, tenant_id=tenant_id, roles=roles,
                          scopes=scopes_for_roles(roles), kind="user")
    observability.count("SessionStarted")
    return tokens.issue(principal, ttl=SESSION_TTL)


def _record_failure(user: User, now: Any) -> None:
    failures = (user.failed_logins or 0) + 1
    actions: list[Any] = [User.failed_logins.set(failures)]
    if failures >= MAX_FAILURES:
        actions = [User.failed_logins.set(0), User.locked_until.set(iso(now + LOCKOUT))]
    user.update(actions=actions)
