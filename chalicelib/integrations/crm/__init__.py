"""CRM inbound: Salesforce outbound messages and HubSpot webhooks create, update and deactivate users."""
