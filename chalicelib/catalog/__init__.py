"""The catalog: courses and versions (private and shared libraries), grants, each tenant's view."""
