"""CRM fields -> user fields: defaults per CRM, checks of a tenant's mapping, and the user a record wants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import ValidationFailed, field_error

DEFAULTS: dict[str, dict[str, str]] = {
    "salesforce": {"Email": "email", "FirstName": "firstName", "LastName": "lastName", "Title": "salesRole",
                   "Department": "department"},
    "hubspot": {"email": "email", "firstname": "firstName", "lastname": "lastName", "jobtitle": "salesRole"},
}
DEFAULT_DEACTIVATE: dict[str, dict[str, str] | None] = {
    "salesforce": {"field": "IsActive", "equals": "false"}, "hubspot": None}
# user fields a CRM owns once mapped (the API's names); `manager` is the manager's record id in the CRM
ATTRIBUTES = ("salesRole", "region", "department", "hireDate")
_USER_ATTRS = {"email": "email", "displayName": "display_name", "salesRole": "sales_role", "region": "region",
               "department": "department", "hireDate": "hire_date", "managerId": "manager_id"}


def check(mapping: dict[str, str]) -> dict[str, str]:
    """A tenant's mapping: each user field from one CRM field at most, and the email mapped."""
    seen: dict[str, str] = {}
    for crm_field, target in mapping.items():
        if target in seen:
            raise ValidationFailed(f"{target} is mapped from both {seen[target]} and {crm_field}.",
                                   errors=[field_error(f"fieldMapping.{crm_field}", f"{target} is mapped twice",
                                                       f"#/fieldMapping/{crm_field}")])
        seen[target] = crm_field
    if "email" not in seen:
        raise ValidationFailed("fieldMapping must map a field to email (users are matched by it).",
                               errors=[field_error("fieldMapping", "no field is mapped to email")])
    return dict(mapping)


@dataclass
class Wanted:
    """What a CRM record asks of its user: the mapped fields it carries, and whether it should be active."""

    fields: dict[str, Any] = field(default_factory=dict)  # API field names; None = cleared in the CRM
    sources: dict[str, str] = field(default_factory=dict)  # API field -> the CRM field it came from
    inactive: bool = False


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: str | None) -> str | None:
    """A date as YYYY-MM-DD: HubSpot sends date properties as epoch milliseconds, Salesforce as dates."""
    if value and value.isdigit():
        from datetime import UTC, datetime

        try:
            return datetime.fromtimestamp(int(value) / 1000, UTC).date().isoformat()
        except (ValueError, OverflowError, OSError):
            return value  # not a date: the user body's validation names the field
    return value[:10] if value else value


def wanted(mapping: dict[str, str], deactivate: dict[str, Any] | None, values: dict[str, Any],
           deleted: bool = False) -> Wanted:
    """The user a record's current values map to (fields the record never carried are left out)."""
    out = Wanted(inactive=deleted)
    for crm_field, target in mapping.items():
        if crm_field in values:
            value = _text(values[crm_field])
            out.fields[target] = _date(value) if target == "hireDate" else value
            out.sources[target] = crm_field
    first, last = out.fields.pop("firstName", None), out.fields.pop("lastName", None)
    if not out.fields.get("displayName") and (first or last):
        out.fields["displayName"] = " ".join(p for p in (first, last) if p)
        out.sources["displayName"] = out.sources.get("firstName") or out.sources.get("lastName", "")
    if deactivate and deactivate["field"] in values:
        seen = (_text(values[deactivate["field"]]) or "").lower()
        out.inactive = out.inactive or seen == str(deactivate["equals"]).strip().lower()
    return out


def create_body(want: Wanted, manager_id: str | None) -> dict[str, Any]:
    """The CreateUser body: no name in the CRM -> the email's local part."""
    email = str(want.fields["email"])
    doc: dict[str, Any] = {"email": email, "displayName": want.fields.get("displayName") or email.split("@")[0]}
    doc.update({name: want.fields[name] for name in ATTRIBUTES if want.fields.get(name)})
    if manager_id:
        doc["managerId"] = manager_id
    return doc


def patch(user: Any, want: Wanted, manager_id: str | None) -> dict[str, Any]:
    """The merge patch that brings the user to what the record says (only fields that differ). Required
    fields are never cleared; attributes cleared in the CRM are cleared here."""
    out: dict[str, Any] = {}
    for name, value in want.fields.items():
        if name == "manager" or name not in _USER_ATTRS:
            continue
        if value is None and name not in ATTRIBUTES:
            continue
        current = getattr(user, _USER_ATTRS[name])
        same = (str(current or "").lower() == str(value).lower()) if name == "email" else current == value
        if not same:
            out[name] = value
    if manager_id and manager_id != user.manager_id and manager_id != user.id:
        out["managerId"] = manager_id
    return out


def field_errors(exc: Any, want: Wanted) -> list[dict[str, Any]]:
    """A pydantic ValidationError of a user body, named by user field and the CRM field it came from."""
    out = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "body"
        crm = want.sources.get(name)
        out.append(field_error(name, err.get("msg", "invalid") + (f" (from {crm})" if crm else "")))
    return out
