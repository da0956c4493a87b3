"""Signed statements (xAPI 1.0.3 Part Two §2.6): a JWS attachment whose payload is the statement itself.

The LRS decodes the JWS (compact serialization, RS256/384/512 only), checks that its payload is the statement
it came with, up to what the LRS itself may set or change (id when absent, authority, stored, timestamp and
version when absent, the signature attachment), and, when the header carries an X.509 chain (`x5c`), checks
the signature against the first certificate's key. Any failure is a 400 naming the attachment.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from chalicelib.errors import ValidationFailed, field_error
from chalicelib.lrs.multipart import Part

USAGE = "http://adlnet.gov/expapi/attachments/signature"
CONTENT_TYPE = "application/octet-stream"
ALGORITHMS = ("RS256", "RS384", "RS512")
_LRS_SET = ("authority", "stored")  # always the LRS's own: never compared


def bad(where: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid signature ({where}): {detail}.", errors=[field_error(where, detail, where)])


def signature_attachments(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(n, a) for n, a in enumerate(doc.get("attachments") or []) if a.get("usageType") == USAGE]


def check(doc: dict[str, Any], parts: dict[str, Part], where: str = "attachments") -> None:
    """Raise a 400 unless every signature attachment of the statement `doc` (as sent) is a valid JWS of it."""
    for n, attachment in signature_attachments(doc):
        at = f"{where}[{n}]"
        if str(attachment["contentType"]).split(";")[0].strip().lower() != CONTENT_TYPE:
            raise bad(f"{at}.contentType", f"a signature is {CONTENT_TYPE}")
        part = parts.get(str(attachment["sha2"]).lower())
        if part is None:
            raise bad(f"{at}.sha2", "the signature (JWS) must be sent with the statement")
        _verify(part.data, doc, at)


def _verify(token: bytes, doc: dict[str, Any], at: str) -> None:
    import jwt
    from jwt.api_jws import PyJWS

    jws = PyJWS(algorithms=list(ALGORITHMS))
    try:
        header = jws.get_unverified_header(token)
        decoded = jws.decode_complete(token, options={"verify_signature": False})
    except (jwt.exceptions.PyJWTError, ValueError, UnicodeDecodeError) as exc:
        raise bad(at, f"not a JWS in compact serialization ({exc})") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise bad(at, f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    try:
        signed = json.loads(decoded["payload"])
    except (ValueError, UnicodeDecodeError):
        raise bad(at, "the JWS payload is not a JSON statement") from None
    if not isinstance(signed, dict) or not same_statement(signed, doc):
        raise bad(at, "the JWS payload is not the statement it is attached to")
    if "x5c" in header:
        try:
            jws.decode_complete(token, key=_first_certificate_key(header["x5c"]), algorithms=[str(algorithm)])
        except (jwt.exceptions.PyJWTError, ValueError, TypeError) as exc:
            raise bad(at, f"the signature does not verify with the x5c certificate ({exc})") from None


def _first_certificate_key(chain: Any) -> Any:
    from cryptography import x509

    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise ValueError("x5c is not a list of certificates")
    return x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True)).public_key()


def _moment(value: Any) -> Any:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return value


def same_statement(signed: dict[str, Any], received: dict[str, Any]) -> bool:
    """The signed statement is the received one, but for what the LRS may set (xAPI Data 2.3.1 and 2.6)."""
    ours, theirs = dict(received), dict(signed)
    for name in _LRS_SET:
        ours.pop(name, None)
        theirs.pop(name, None)
    if "id" in theirs and str(theirs.pop("id")).lower() != str(ours.get("id", "")).lower():
        return False
    ours.pop("id", None)
    if "timestamp" in theirs and _moment(theirs.pop("timestamp")) != _moment(ours.get("timestamp")):
        return False
    ours.pop("timestamp", None)
    if "version" not in theirs:
        ours.pop("version", None)
    ours["attachments"] = [a for a in ours.get("attachments") or [] if a.get("usageType") != USAGE]
    theirs.setdefault("attachments", [])
    return ours == theirs
