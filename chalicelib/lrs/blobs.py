"""LRS values kept in S3 (the content bucket) rather than in DynamoDB: attachment data, statements too large
for their items, documents over 350 KB. Every object is content-addressed (its key names its hash), so it
is written once, never changed, and written *before* the item that points at it: a failed transaction
leaves an unreferenced object behind (harmless), never an item pointing at nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import settings

_ALREADY_THERE = {"PreconditionFailed", "ConditionalRequestConflict"}  # same key = same bytes


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(key: str, data: bytes, content_type: str) -> None:
    """Store `data` under a content-addressed key, unless it is there already (one PutObject either way)."""
    try:
        aws.s3().put_object(Bucket=settings().bucket_name, Key=key, Body=data, ContentType=content_type,
                            IfNoneMatch="*")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _ALREADY_THERE:
            raise


def get(key: str) -> bytes | None:
    """The object's bytes, or None when there is none."""
    try:
        found: Any = aws.s3().get_object(Bucket=settings().bucket_name, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    body: bytes = found["Body"].read()
    return body


def require(key: str) -> bytes:
    """An object an item points at: its absence is a broken invariant, not a client error."""
    data = get(key)
    if data is None:
        raise LookupError(f"s3 object {key} is missing")
    return data
