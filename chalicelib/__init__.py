"""Onramp: a multi-tenant LMS backend (Chalice + single-table DynamoDB)."""
