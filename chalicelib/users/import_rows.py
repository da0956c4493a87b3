"""One CSV row of a user import: its cells -> a CreateUser/UpdateUser body, validated, then the user is
created, updated (only what differs) or left alone. Errors name the CSV column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chalicelib.api.schemas import CreateUser, UpdateUser
from chalicelib.auth.principal import TenantContext
from chalicelib.errors import OnrampError
from chalicelib.store import keys
from chalicelib.store.models import EmailClaim, ExternalIdClaim, Item, User
from chalicelib.users import service as users

SOURCE = "import"  # the external-id source of the `externalId` column
COLUMNS = ("email", "displayName", "firstName", "lastName", "roles", "salesRole", "region", "department",
           "managerEmail", "hireDate", "externalId")
_BY_NORMAL = {c.lower(): c for c in COLUMNS}
ATTRIBUTES = ("email", "displayName", "roles", "salesRole", "region", "department", "managerId", "hireDate")
MAX_ERRORS_PER_ROW = 5


def canonical(header_cell: str) -> str | None:
    """`Display Name`, `display_name`, `DISPLAYNAME` -> `displayName`; None for a column imports ignore."""
    normal = "".join(ch for ch in header_cell.strip().lower() if ch not in " _-")
    return _BY_NORMAL.get(normal)


def is_blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


@dataclass
class Outcome:
    kind: str  # created | updated | unchanged | failed
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)


class Directory:
    """The tenant's users that a chunk's rows name (by email, by import id), read up front in batches and
    kept current as rows create and change users: rows later in the file see what earlier rows did."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.by_email: dict[str, dict[str, Any] | None] = {}
        self.by_external: dict[str, dict[str, Any] | None] = {}

    def prefetch(self, emails: set[str], external_ids: set[str]) -> None:
        emails = {e.lower() for e in emails} - self.by_email.keys()
        external_ids = external_ids - self.by_external.keys()
        claim_keys = [(keys.email_pk(self.tenant_id, e), keys.EMAIL_SK) for e in sorted(emails)]
        claim_keys += [(keys.external_id_pk(self.tenant_id, SOURCE, x), keys.EXTID_SK) for x in sorted(external_ids)]
        owner: dict[str, str] = {}  # claim PK -> user id
        for claim in Item.batch_get(claim_keys) if claim_keys else ():
            if isinstance(claim, EmailClaim | ExternalIdClaim):
                owner[claim.PK] = claim.user_id
        ids = sorted(set(owner.values()))
        found = {u.id: users.to_json(u) for u in User.batch_get(
            [(keys.user_pk(self.tenant_id, i), keys.USER_SK) for i in ids])} if ids else {}
        for email in emails:
            self.by_email[email] = found.get(owner.get(keys.email_pk(self.tenant_id, email), ""))
        for ext in external_ids:
            self.by_external[ext] = found.get(owner.get(keys.external_id_pk(self.tenant_id, SOURCE, ext), ""))

    def remember(self, user: dict[str, Any], external_id: str | None, old_email: str | None = None) -> None:
        if old_email and old_email.lower() != user["email"].lower():
            self.by_email[old_email.lower()] = None
        self.by_email[user["email"].lower()] = user
        if external_id:
            self.by_external[external_id] = user


def cells(columns: list[str], record: list[str]) -> dict[str, str]:
    """The row's non-empty cells by canonical column (an empty cell changes nothing)."""
    return {name: value.strip() for name, value in zip(columns, record, strict=False) if name and value.strip()}


def _fields(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {k: row[k] for k in ("email", "salesRole", "region", "department", "hireDate") if k in row}
    name = row.get("displayName") or " ".join(p for p in (row.get("firstName"), row.get("lastName")) if p)
    if name:
        body["displayName"] = name
    if "roles" in row:
        body["roles"] = [r.strip().lower() for r in row["roles"].split(";") if r.strip()]
    return body


def _column(api_field: str, row: dict[str, str]) -> str:
    if api_field == "managerId":
        return "managerEmail"
    if api_field == "displayName" and "displayName" not in row and ("firstName" in row or "lastName" in row):
        return "firstName"
    return api_field


def _pydantic_errors(exc: ValidationError, row: dict[str, str]) -> list[tuple[str, str]]:
    return [(_column(str(e["loc"][0]) if e.get("loc") else "row", row), str(e.get("msg", "invalid")))
            for e in exc.errors()]


def _domain_errors(err: OnrampError, row: dict[str, str]) -> list[tuple[str, str]]:
    return [(_column(str(e.get("field") or "row"), row), str(e.get("detail") or err.detail))
            for e in err.errors] or [("row", err.detail)]


def _current(user: dict[str, Any]) -> dict[str, Any]:
    return {name: user.get(name) for name in ATTRIBUTES}


def _same(name: str, wanted: Any, current: Any) -> bool:
    if name == "roles":
        return sorted(wanted or []) == sorted(current or [])
    if name == "email":  # the tenant's email claim is case-blind: a case change alone is no change
        return bool(str(wanted).lower() == str(current).lower())
    if name == "hireDate" and wanted is not None:
        return bool(wanted.isoformat() == current)
    return bool(wanted == current)


class RowProcessor:
    """Applies rows in file order for one tenant (`ctx`: the platform acting as `system:import`)."""

    def __init__(self, ctx: TenantContext, directory: Directory) -> None:
        self.ctx, self.directory = ctx, directory

    def apply(self, row: dict[str, str]) -> Outcome:
        if "email" not in row:
            return Outcome("failed", [("email", "required")])
        body = _fields(row)
        manager_error = self._manager(row, body)
        try:
            checked = UpdateUser.model_validate(body)  # every value given, whether the user exists or not
        except ValidationError as exc:
            return Outcome("failed", ([manager_error] if manager_error else []) + _pydantic_errors(exc, row))
        if manager_error:
            return Outcome("failed", [manager_error])
        try:
            return self._upsert(row, body, checked)
        except ValidationError as exc:
            return Outcome("failed", _pydantic_errors(exc, row))
        except OnrampError as err:  # a taken email or external id, an inactive manager...
            return Outcome("failed", _domain_errors(err, row))

    def _manager(self, row: dict[str, str], body: dict[str, Any]) -> tuple[str, str] | None:
        email = row.get("managerEmail")
        if not email:
            return None
        if email.lower() == row["email"].lower():
            return "managerEmail", "a user cannot be their own manager"
        manager = self.directory.by_email.get(email.lower())
        if manager is None:
            return "managerEmail", "no user of this tenant has this email (managers must come first in the file)"
        body["managerId"] = manager["id"]
        return None

    def _existing(self, row: dict[str, str]) -> dict[str, Any] | None:
        external_id = row.get("externalId")
        if external_id and self.directory.by_external.get(external_id):
            return self.directory.by_external[external_id]
        return self.directory.by_email.get(row["email"].lower())

    def _upsert(self, row: dict[str, str], body: dict[str, Any], checked: UpdateUser) -> Outcome:
        external_id = row.get("externalId")
        user = self._existing(row)
        if user is None:
            created = users.create_user(self.ctx, CreateUser.model_validate(body),
                                        external=(SOURCE, external_id) if external_id else None)
            self.directory.remember(created, external_id)
            return Outcome("created")
        changed = False
        if external_id and self.directory.by_external.get(external_id) is None:
            users.link_external_id(self.ctx, user["id"], SOURCE, external_id)  # matched by email
            self.directory.remember(user, external_id)
            changed = True
        current = _current(user)
        patch = {name: body[name] for name in checked.model_fields_set
                 if not _same(name, getattr(checked, name), current[name])}
        if patch:
            updated = users.update_user(self.ctx, user["id"], UpdateUser.model_validate(patch))
            self.directory.remember(updated, external_id, old_email=user["email"])
            changed = True
        return Outcome("updated" if changed else "unchanged")
