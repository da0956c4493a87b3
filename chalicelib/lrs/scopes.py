"""xAPI scopes (what an LRS credential is granted) and the platform scopes they carry."""

from __future__ import annotations

READ_MINE = "xapi:statements:read:mine"
READ_ALL = "xapi:statements:read"
WRITE = "xapi:statements:write"
STATE_READ, STATE_WRITE = "xapi:state:read", "xapi:state:write"
PROFILE_READ, PROFILE_WRITE = "xapi:profile:read", "xapi:profile:write"

_READ = frozenset({READ_MINE, READ_ALL, STATE_READ, PROFILE_READ})
IMPLIES: dict[str, frozenset[str]] = {
    "statements/write": frozenset({WRITE}),
    "statements/read/mine": frozenset({READ_MINE}),
    "statements/read": frozenset({READ_MINE, READ_ALL}),
    "state": frozenset({STATE_READ, STATE_WRITE}),
    "define": frozenset({PROFILE_READ}),
    "profile": frozenset({PROFILE_READ, PROFILE_WRITE}),
    "all/read": _READ,
    "all": _READ | {WRITE, STATE_WRITE, PROFILE_WRITE},
}


def platform_scopes(xapi_scopes: list[str]) -> frozenset[str]:
    granted: set[str] = set()
    for scope in xapi_scopes:
        granted |= IMPLIES.get(scope, frozenset())
    return frozenset(granted)
