"""Users of a tenant: profiles, roles, reporting lines, the attributes that drive enrollment."""

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # an uploaded user-import CSV (S3 enforces it on the presigned POST)
