"""Integrations: CRM inbound (crm/), and the other connectors as they come."""
