"""Certifications: programs, issuing, certificates, PDFs, verification, reminders and recertification."""
