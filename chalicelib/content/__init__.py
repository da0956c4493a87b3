"""Content: packages (SCORM 1.2/2004, cmi5, xAPI) and their ingest, the player runtime, starter courses."""
