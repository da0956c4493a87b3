"""The HTTP edge: route declaration, validation, problem+json, pagination cursors, idempotency."""
