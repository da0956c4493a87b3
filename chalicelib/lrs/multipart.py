"""xAPI's multipart/mixed transmission format (Part Three §1.5.2): statements first, then attachment data.

Parsing is the standard library's MIME parser (RFC 2046); each part after the first must name its data's
SHA-2 (`X-Experience-API-Hash`) and, if it names an encoding at all, `binary`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import MalformedBody, ValidationFailed, field_error

MIXED = "multipart/mixed"
HASH_HEADER = "X-Experience-API-Hash"
_HEX = re.compile(r"^[0-9a-f]+\Z")
_TOKEN = re.compile(r"^[\x21-\x7e][\x20-\x7e]*\Z")  # a header value without control characters
_ALGORITHMS = {64: "sha256", 96: "sha384", 128: "sha512"}  # hex length -> SHA-2 variant


@dataclass(frozen=True)
class Part:
    """One attachment's data, named by the SHA-2 the statements give it (lower-case hex)."""

    sha2: str
    content_type: str
    data: bytes


def bad(detail: str, where: str = "body") -> ValidationFailed:
    return ValidationFailed(detail, errors=[field_error(where, detail, where)])


def media_type(header: str | None, default: str = "application/json") -> str:
    return (header or default).split(";")[0].strip().lower()


def digest_of(data: bytes, sha2: str) -> str | None:
    """The SHA-2 of `data` in the variant that `sha2` (hex) is written in; None when it is no SHA-2."""
    algorithm = _ALGORITHMS.get(len(sha2))
    if algorithm is None or not _HEX.match(sha2):
        return None
    return hashlib.new(algorithm, data).hexdigest()


def _part(message: Any, n: int) -> Part:
    where = f"part[{n}]"
    declared = (message.get(HASH_HEADER) or "").strip().lower()
    if not declared:
        raise bad(f"Attachment part {n} has no {HASH_HEADER} header.", f"{where}.{HASH_HEADER}")
    encoding = (message.get("Content-Transfer-Encoding") or "binary").strip().lower()
    if encoding != "binary":
        raise bad(f"Attachment part {n} has Content-Transfer-Encoding {encoding}; it must be binary.",
                  f"{where}.Content-Transfer-Encoding")
    data = message.get_payload(decode=True) or b""
    if digest_of(data, declared) != declared:
        raise bad(f"Attachment part {n}: its data does not have the SHA-2 {declared}.", f"{where}.{HASH_HEADER}")
    return Part(declared, message.get_content_type(), data)


def parse(content_type: str, body: bytes) -> tuple[Any, list[Part]]:
    """The statements (JSON) of the first part and the attachment parts; 400 unless well formed."""
    from email import policy
    from email.parser import BytesParser

    if "\r" in content_type or "\n" in content_type:
        raise bad("The Content-Type header is malformed.", "header:Content-Type")
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    parts: list[Any] | None = message.get_payload() if message.is_multipart() else None  # type: ignore[assignment]
    if message.defects or not parts:
        raise bad("The body is not multipart/mixed with the boundary of its Content-Type "
                  f"({', '.join(type(d).__name__ for d in message.defects) or 'no parts'}).")
    first = parts[0]
    if first.get_content_type() != "application/json":
        raise bad("The first part holds the statements and must be application/json.", "part[0].Content-Type")
    try:
        statements = json.loads(first.get_payload(decode=True) or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The first part is not valid JSON: {exc}.") from None
    return statements, [_part(p, n) for n, p in enumerate(parts[1:], start=1)]


def build(first: Any, parts: list[Part]) -> tuple[bytes, str]:
    """A multipart/mixed body (and its Content-Type): `first` as JSON, then each part's data as is."""
    boundary = uuid.uuid4().hex
    while any(boundary.encode() in p.data for p in parts):  # pragma: no cover - 128 random bits
        boundary = uuid.uuid4().hex
    dash = f"--{boundary}".encode()
    out = [dash, b"\r\nContent-Type: application/json\r\n\r\n", json.dumps(first).encode(), b"\r\n"]
    for p in parts:
        kind = p.content_type if _TOKEN.match(p.content_type) else "application/octet-stream"
        out += [dash, f"\r\nContent-Type: {kind}\r\nContent-Transfer-Encoding: binary\r\n"
                      f"{HASH_HEADER}: {p.sha2}\r\n\r\n".encode(), p.data, b"\r\n"]
    out += [dash, b"--\r\n"]
    return b"".join(out), f'{MIXED}; boundary="{boundary}"'
