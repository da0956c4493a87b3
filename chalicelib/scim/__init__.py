"""SCIM 2.0 (RFC 7643/7644) per tenant: bearer tokens, Users and Groups over the users service (docs/scim.md)."""
