"""The xAPI request protocol: the version header, response headers, CORS for browser clients."""

from __future__ import annotations

import re
from typing import Any

from chalice import CORSConfig

from chalicelib.errors import ValidationFailed, field_error

VERSION = "1.0.3"
SUPPORTED = ("1.0.3", "1.0.2", "1.0.1", "1.0.0")
_ACCEPTED = re.compile(r"^1\.0(\.\d+)?$")
VERSION_HEADER = "X-Experience-API-Version"
HEADERS = ((VERSION_HEADER, VERSION),)
CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "X-Experience-API-Version", "If-Match", "If-None-Match",
                   "X-Correlation-Id"],
    expose_headers=["ETag", "Last-Modified", "Location", "X-Experience-API-Version",
                    "X-Experience-API-Consistent-Through", "X-Correlation-Id"],
    max_age=600)


def require_version(request: Any) -> None:
    """Every xAPI request but About names a 1.0.x version (xAPI Part Three §6.2)."""
    version = (request.headers.get("x-experience-api-version") or "").strip()
    if not version:
        raise ValidationFailed("The X-Experience-API-Version header is required.",
                               errors=[field_error(VERSION_HEADER, "missing", "header:" + VERSION_HEADER)])
    if not _ACCEPTED.match(version):
        raise ValidationFailed(f"xAPI version {version!r} is not supported; use 1.0.x.",
                               errors=[field_error(VERSION_HEADER, "unsupported", "header:" + VERSION_HEADER)])


def about() -> dict[str, Any]:
    return {"version": list(SUPPORTED), "extensions": {}}
