"""Statement attachments: matching the parts of a request to the statements' attachments, keeping their data
in S3, and answering GET ?attachments=true in the multipart format (xAPI 1.0.3 Part Three §1.5.2, §2.1.3).

Data is stored once per tenant and SHA-2 (`keys.lrs_attachment_key`), before the statements that reference
it are written (see chalicelib.lrs.blobs).
"""

from __future__ import annotations

from typing import Any

from chalicelib.http.routing import Reply
from chalicelib.lrs import blobs, multipart, signatures
from chalicelib.lrs.multipart import Part as Part  # re-exported: statements.store takes them
from chalicelib.lrs.multipart import bad
from chalicelib.store import keys


def declared(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A statement's attachments and its sub-statement's, each with where it is."""
    found = [(f"attachments[{n}]", a) for n, a in enumerate(doc.get("attachments") or [])]
    obj = doc.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        found += [(f"object.attachments[{n}]", a) for n, a in enumerate(obj.get("attachments") or [])]
    return [(where, a) for where, a in found if isinstance(a, dict)]


def check(batch: list[dict[str, Any]], parts: list[Part] | None) -> dict[str, Part]:
    """The parts by SHA-2, once each attachment without a fileUrl has its part, every part belongs to an
    attachment and every signature is valid; any failure is a 400 and nothing is stored."""
    received = {p.sha2: p for p in parts or []}
    wanted: set[str] = set()
    for n, doc in enumerate(batch):
        prefix = f"statements[{n}]." if len(batch) > 1 else ""
        for where, attachment in declared(doc):
            sha2 = str(attachment.get("sha2", "")).lower()
            wanted.add(sha2)
            if "fileUrl" not in attachment and sha2 not in received:
                detail = ("has no fileUrl and no multipart/mixed part with its sha2" if parts is not None
                          else "has no fileUrl: its data is sent as a multipart/mixed part")
                raise bad(f"Attachment {prefix}{where} {detail}.", f"{prefix}{where}.sha2")
        signatures.check(doc, received, f"{prefix}attachments")
    extra = sorted(set(received) - wanted)
    if extra:
        raise bad(f"The part with {multipart.HASH_HEADER} {extra[0]} belongs to no attachment.",
                  multipart.HASH_HEADER)
    return received


def store(tenant_id: str, parts: dict[str, Part]) -> None:
    """One PutObject per distinct attachment (content-addressed: data already stored is not written again)."""
    for part in parts.values():
        blobs.put(keys.lrs_attachment_key(tenant_id, part.sha2), part.data, part.content_type)


def collect(tenant_id: str, docs: list[dict[str, Any]]) -> list[Part]:
    """The data of the statements' attachments, once per SHA-2, as far as this LRS holds it (an attachment
    sent with only a fileUrl has none here)."""
    found: dict[str, Part] = {}
    for doc in docs:
        for _, attachment in declared(doc):
            sha2 = str(attachment.get("sha2", ""))
            if sha2.lower() in found or not keys.is_safe(sha2.lower()):
                continue
            data = blobs.get(keys.lrs_attachment_key(tenant_id, sha2.lower()))
            if data is not None:
                found[sha2.lower()] = Part(sha2, str(attachment.get("contentType", "")), data)
    return list(found.values())


def _docs(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("statements"), list):
        return [d for d in body["statements"] if isinstance(d, dict)]
    return [body] if isinstance(body, dict) else []


def multipart_reply(tenant_id: str, reply: Reply, request: Any, binary_types: list[str]) -> Reply:
    """A GET answer (one statement or a StatementResult) in the multipart format with its attachments.

    API Gateway passes a text body through unchanged and decodes a base64 one only for a client whose first
    Accept type is a binary media type (multipart/mixed is one, so uploads reach Lambda byte-exact). So:
    such a client gets the bytes (Chalice base64-encodes them); any other client gets the body as text when
    it is UTF-8 (the statements always are; so are text attachments), and a 406 naming the Accept to send
    when an attachment's data is not (it could only travel as base64 text). A HEAD answers the JSON
    headers (no body)."""
    from chalicelib.lrs.document_resource import NotAcceptable, _matches  # it imports this module's caller

    if request.method == "HEAD":
        return reply
    body, content_type = multipart.build(reply.body, collect(tenant_id, _docs(reply.body)))
    headers = {**reply.headers, "Content-Type": content_type}
    if _matches(request.headers.get("accept"), binary_types):
        return Reply(body, reply.status, headers)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotAcceptable("An attachment's data is not UTF-8 text: send Accept: multipart/mixed (or */*) "
                            "to receive this multipart/mixed answer in bytes.") from None
    return Reply(text, reply.status, headers, text=True)
