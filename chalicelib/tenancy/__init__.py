"""Tenancy: tenants from templates, partner hierarchy, suspension, sandboxes."""
