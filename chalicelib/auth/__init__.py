"""Authentication and authorisation: signing keys, tokens, passwords, principals, RBAC."""
