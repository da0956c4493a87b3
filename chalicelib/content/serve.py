"""Files from the content bucket, through the API: course files behind a content token, public assets.

Course files (`/play/<token>/<path>`) are read under the S3 prefix the signed token names, so a
relative URL inside a package keeps working and reaches nothing outside its version. Public assets
(`/content/<path>`: the player, default branding) are the bucket's `content/` prefix, which CloudFront
serves directly when deployed.
"""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.content import launch
from chalicelib.errors import NotFound

ASSETS_PREFIX = "content/"
TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml")
MAX_DEPTH = 8


def _path(parts: list[str]) -> str:
    """The file's path below the prefix; API Gateway decodes `%2F` inside a parameter, so each parameter is
    split again and no piece may climb (`..`), stay (`.`), be empty or carry a backslash."""
    pieces = [piece for part in parts for piece in part.split("/")]
    if not pieces or any(p in ("", ".", "..") or "\\" in p for p in pieces):
        raise NotFound("No such file.")
    return "/".join(pieces)


def _object(key: str, headers: dict[str, str]) -> Response:
    s3 = aws.s3()
    try:
        found = s3.get_object(Bucket=settings().bucket_name, Key=key)
    except s3.exceptions.NoSuchKey:
        raise NotFound("No such file.") from None
    data: bytes = found["Body"].read()
    kind = found.get("ContentType") or "application/octet-stream"
    body: Any = data.decode("utf-8", "replace") if kind.startswith(TEXT_TYPES) else data
    if kind.startswith("text/") and "charset" not in kind:
        kind += "; charset=utf-8"
    return Response(body=body, status_code=200, headers={"Content-Type": kind, **headers})


def course_file(token: str, parts: list[str]) -> Response:
    claims = launch.verify("content", token)
    return _object(str(claims["p"]) + _path(parts),
                   {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})


def asset(parts: list[str]) -> Response:
    return _object(ASSETS_PREFIX + _path(parts), {"Cache-Control": "public, max-age=300"})
