"""Document storage for the State, Activity Profile and Agent Profile resources, with ETag concurrency.

A scope (state: activity + agent; profiles: the activity or the agent) is one partition; a state
document's sort key starts with its registration, so "all states of a registration" is a prefix query.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.clock import utcnow_iso
from chalicelib.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from chalicelib.lrs import blobs
from chalicelib.lrs.facets import value_hash
from chalicelib.store import keys
from chalicelib.store.models import XapiDocument

MAX_BYTES = 350_000  # in the item up to this (DynamoDB's items stop at 400 KB); larger ones live in S3
NO_REGISTRATION = "none"
JSON = "application/json"


@dataclass(frozen=True)
class Scope:
    tenant_id: str
    kind: str  # state | activity-profile | agent-profile
    scope: str  # the canonical activity + agent, activity id, or agent key
    registration: str | None = None

    @property
    def pk(self) -> str:
        return keys.document_pk(self.tenant_id, self.kind, value_hash(self.scope))

    @property
    def part(self) -> str:
        return value_hash(self.registration) if self.registration else NO_REGISTRATION

    def sk(self, doc_id: str) -> str:
        return keys.document_sk(self.part, value_hash(doc_id))


@dataclass(frozen=True)
class Conditions:
    if_match: str | None = None
    if_none_match: str | None = None
    required: bool = False  # profiles: a PUT over an existing document must say which version it replaces


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha1(content).hexdigest() + '"'  # noqa: S324 - an entity tag, not a security hash


def load(scope: Scope, doc_id: str) -> XapiDocument | None:
    """The document, its content in hand (one GetItem; one S3 GetObject more for a document over MAX_BYTES)."""
    try:
        doc = XapiDocument.get(scope.pk, scope.sk(doc_id))
    except XapiDocument.DoesNotExist:
        return None
    if doc.content_ref:
        doc.content = blobs.require(doc.content_ref)
    return doc


def _check(current: XapiDocument | None, cond: Conditions) -> None:
    if cond.if_match is not None:
        tags = {t.strip() for t in cond.if_match.split(",")}
        if current is None or not ("*" in tags or current.etag in tags):
            raise PreconditionFailed("If-Match does not match the document's current ETag.")
    if cond.if_none_match is not None and current is not None:
        tags = {t.strip() for t in cond.if_none_match.split(",")}
        if "*" in tags or current.etag in tags:
            raise PreconditionFailed("If-None-Match: the document exists.")
    if cond.required and cond.if_match is None and cond.if_none_match is None:
        if current is not None:
            raise Conflict("The document exists: send If-Match with its ETag.")
        raise ValidationFailed("A profile PUT names the version it replaces: If-Match, or If-None-Match: *.")


def _merge(current: XapiDocument | None, content: bytes, content_type: str) -> tuple[bytes, str]:
    try:
        new = json.loads(content) if content_type.startswith(JSON) else None
        old = json.loads(current.content) if current is not None else {}
    except ValueError:
        new = old = None
    if current is not None and not current.content_type.startswith(JSON):
        old = None
    if not isinstance(new, dict) or not isinstance(old, dict):
        raise ValidationFailed("POST merges JSON objects: both documents must be application/json objects.")
    return json.dumps({**old, **new}).encode(), JSON


def write(scope: Scope, doc_id: str, content: bytes, content_type: str, cond: Conditions, merge: bool) -> str:
    current = load(scope, doc_id)
    _check(current, cond)
    if merge:
        content, content_type = _merge(current, content, content_type)
    ref = None
    if len(content) > MAX_BYTES:  # to S3 first (content-addressed): the item never points at nothing
        ref = keys.lrs_document_key(scope.tenant_id, blobs.content_hash(content))
        blobs.put(ref, content, content_type)
    doc = XapiDocument(PK=keys.document_pk(scope.tenant_id, scope.kind, value_hash(scope.scope)),
                       SK=keys.document_sk(scope.part, value_hash(doc_id)), doc_id=doc_id,
                       registration=scope.registration, content=b"" if ref else content, content_ref=ref,
                       content_type=content_type, etag=_etag(content), updated=utcnow_iso())
    condition = (XapiDocument.PK.does_not_exist() if current is None
                 else XapiDocument.etag == current.etag)  # nobody changed it since it was read
    try:
        doc.save(condition=condition)
    except PutError:
        raise PreconditionFailed("The document changed meanwhile; read it again.") from None
    return doc.etag


def delete(scope: Scope, doc_id: str, cond: Conditions) -> None:
    current = load(scope, doc_id)
    _check(current, Conditions(cond.if_match, cond.if_none_match))
    if current is None:
        return
    try:
        current.delete(condition=XapiDocument.etag == current.etag)
    except DeleteError:
        raise PreconditionFailed("The document changed meanwhile; read it again.") from None


def _in_scope(scope: Scope) -> list[XapiDocument]:
    if scope.kind == "state" and scope.registration is None:
        return list(XapiDocument.query(scope.pk))
    return list(XapiDocument.query(scope.pk, XapiDocument.SK.startswith(keys.document_part_prefix(scope.part))))


def ids(scope: Scope, since: str | None) -> list[str]:
    return sorted(d.doc_id for d in _in_scope(scope) if since is None or d.updated > since)


def delete_all(scope: Scope) -> None:
    with XapiDocument.batch_write() as batch:
        for doc in _in_scope(scope):
            batch.delete(doc)


def read(scope: Scope, doc_id: str) -> XapiDocument:
    doc = load(scope, doc_id)
    if doc is None:
        raise NotFound("No such document.")
    return doc
