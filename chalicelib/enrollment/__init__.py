"""Enrollment: users in courses and paths (self, manager, rules, CRM, import, recertification)."""
