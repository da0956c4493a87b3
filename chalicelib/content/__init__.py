"""Content: packages (SCORM 1.2/2004, cmi5, xAPI) and their ingest, the player runtime, starter courses."""

MAX_PACKAGE_BYTES = 200 * 1024 * 1024  # an uploaded zip (S3 enforces it on the presigned POST)
