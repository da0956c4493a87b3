"""Users of a tenant: profiles, roles, reporting lines, the attributes that drive enrollment."""
