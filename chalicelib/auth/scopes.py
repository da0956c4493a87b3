"""OAuth2 scopes (`<resource>:read|write`) and what each role may do."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "tenants:read": "Read tenants, their branding and settings",
    "tenants:write": "Create, change, suspend and resume tenants and sandboxes",
    "users:read": "Read users",
    "users:write": "Create, change and deactivate users",
    "clients:read": "List API clients",
    "clients:write": "Create and revoke API clients",
    # the LRS (xAPI): what LRS credentials map to (chalicelib.lrs.scopes); admins hold them all
    "xapi:statements:write": "Store xAPI statements",
    "xapi:statements:read:mine": "Read the xAPI statements this credential stored",
    "xapi:statements:read": "Read every xAPI statement of the tenant",
    "xapi:state:read": "Read xAPI state documents",
    "xapi:state:write": "Store and delete xAPI state documents",
    "xapi:profile:read": "Read xAPI activities, agents and their profile documents",
    "xapi:profile:write": "Store and delete xAPI profile documents",
    "courses:read": "Read the catalog, courses and versions",
    "courses:write": "Create and change courses, upload packages, publish versions",
    "enrollments:read": "Read enrollments and attempts",
    "enrollments:write": "Enroll users in courses",
    "learning:play": "Start and resume one's own course attempts",
    "integrations:read": "Read the CRM integration settings (never their secrets)",
    "integrations:write": "Configure CRM integrations (Salesforce, HubSpot)",
    "certifications:read": "Read certification programs, certificates and exports (learners: their own)",
    "certifications:write": "Create and change certification programs, revoke certificates",
    # partner leads (docs/partners.md): the operator's routing and inbound leads; partners' claims and outcomes
    "leads:read": "Read leads (partners: those offered to them), routing settings and profiles",
    "leads:write": "Create leads (the operator, CRM inbound); claim, decline and close offered leads",
    # SLAs (docs/partners.md): customers' support cases; partners' calendars, responses; the operator's uptime
    "support:read": "Read support cases (learners: their own), SLA calendars and uptime figures",
    "support:write": "Open support cases; partners: respond, resolve, set the SLA calendar",
    # scorecards and onboarding (docs/partners.md): partners' admins read their own, the operator all
    "partners:read": "Read partner scorecards, onboarding plans and scorecard thresholds",
    "partners:write": "Complete onboarding milestones; operator: KPI inputs, scorecards, thresholds",
}

ALL = frozenset(SCOPES)
_READ_SELF = frozenset({"tenants:read", "users:read", "courses:read", "enrollments:read", "enrollments:write",
                        "learning:play", "certifications:read", "support:read", "support:write"})

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "operator": ALL,
    "partner_admin": ALL,
    "admin": ALL,
    "manager": _READ_SELF,
    "learner": _READ_SELF,
}

TENANT_ROLES = ("admin", "manager", "learner")


def scopes_for_roles(roles: list[str] | frozenset[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(granted)
