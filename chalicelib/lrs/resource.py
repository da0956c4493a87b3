"""The Statement Resource over HTTP: request interpretation for PUT, POST and GET /statements."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.auth.principal import TenantContext
from chalicelib.clock import http_date, utcnow_iso
from chalicelib.errors import MalformedBody, OnrampError, ValidationFailed, field_error
from chalicelib.http.routing import Reply
from chalicelib.lrs import attachments, formats, multipart, params, query, statements
from chalicelib.lrs.validate import UUID

CONSISTENT = "X-Experience-API-Consistent-Through"


def _query(request: Any) -> dict[str, str]:
    raw = request.query_params or {}
    out = {}
    for name in raw:
        values = raw.getlist(name) if hasattr(raw, "getlist") else [raw[name]]
        if len(values) != 1:
            raise params.bad(name, "is repeated")
        out[name] = values[0]
    return out


def _json(request: Any) -> Any:
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ValidationFailed(f"Statements are sent as application/json, not {content_type}.",
                               errors=[field_error("Content-Type", "unsupported", "header:Content-Type")])
    try:
        return json.loads(request.raw_body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from None


def _body(request: Any) -> tuple[Any, list[multipart.Part] | None]:
    """The statements of a PUT/POST, and the attachment parts when it is multipart/mixed."""
    content_type = request.headers.get("content-type") or ""
    if multipart.media_type(content_type) == multipart.MIXED:
        return multipart.parse(content_type, request.raw_body or b"")
    return _json(request), None


def put_statement(ctx: TenantContext, request: Any) -> Reply:
    q = _query(request)
    statement_id = q.pop("statementId", None)
    if statement_id is None or not UUID.match(statement_id) or q:
        raise params.bad("statementId", "PUT needs exactly one statementId (a UUID) and no other parameter")
    doc, parts = _body(request)
    if not isinstance(doc, dict):
        raise ValidationFailed("PUT takes one statement object.")
    if "id" in doc and str(doc["id"]).lower() != statement_id.lower():
        raise ValidationFailed("The statement's id differs from statementId.",
                               errors=[field_error("id", "differs from statementId")])
    statements.store(ctx, [{**doc, "id": doc.get("id", statement_id)}], parts)
    _stored_by_au(ctx, [doc])
    return Reply("", 204)


def post_statements(ctx: TenantContext, request: Any) -> Reply:
    if _query(request):
        raise ValidationFailed("POST /statements takes no query parameters (but for the alternate request "
                               "syntax's method).")
    doc, parts = _body(request)
    batch = doc if isinstance(doc, list) else [doc]
    ids = statements.store(ctx, batch, parts)
    _stored_by_au(ctx, [d for d in batch if isinstance(d, dict)])
    return Reply(ids, 200)


def _stored_by_au(ctx: TenantContext, docs: list[dict[str, Any]]) -> None:
    """Statements a cmi5 AU or an xAPI activity sent through its launch session's credential advance its attempt."""
    from chalicelib.content import cmi5

    key = cmi5.credential_key(ctx.principal)
    if key:
        from chalicelib.content import attempts

        attempts.fold_au_statements(ctx.tenant_id, key, docs)



def _with_attachments(ctx: TenantContext, reply: Reply, wanted: bool, request: Any, binary_types: list[str]) -> Reply:
    return attachments.multipart_reply(ctx.tenant_id, reply, request, binary_types) if wanted else reply


def _single(ctx: TenantContext, q: dict[str, str], accept_language: str | None, request: Any,
            binary_types: list[str]) -> Reply:
    if "statementId" in q and "voidedStatementId" in q:
        raise params.bad("voidedStatementId", "cannot be combined with statementId")
    extra = sorted(set(q) - params.SINGLE)
    if extra:
        raise params.bad(extra[0], "cannot be combined with statementId/voidedStatementId")
    name = "statementId" if "statementId" in q else "voidedStatementId"
    if not UUID.match(q[name]):
        raise params.bad(name, "must be a UUID")
    one = params.filters({k: v for k, v in q.items() if k in ("format", "attachments")}, accept_language)
    doc, stored = statements.read(ctx, q[name], voided=name == "voidedStatementId")
    body = formats.render(doc, one.format, accept_language)
    reply = Reply(body, 200, {"Last-Modified": http_date(stored), CONSISTENT: utcnow_iso()})
    return _with_attachments(ctx, reply, one.attachments, request, binary_types)


def get_statements(ctx: TenantContext, request: Any, binary_types: list[str] | None = None) -> Reply:
    """Every answer, errors included, says how current the data is (xAPI Communication 2.1.3.s2.b5)."""
    try:
        return _get_statements(ctx, request, binary_types or [])
    except OnrampError as err:
        err.headers.setdefault(CONSISTENT, utcnow_iso())
        raise


def _get_statements(ctx: TenantContext, request: Any, binary_types: list[str]) -> Reply:
    q = _query(request)
    accept_language = request.headers.get("accept-language")
    if "statementId" in q or "voidedStatementId" in q:
        return _single(ctx, q, accept_language, request, binary_types)
    if "more" in q:
        if len(q) > 1:
            raise params.bad("more", "cannot be combined with other parameters")
        page = query.resume(ctx, q["more"])
    else:
        page = query.run(ctx, params.filters(q, accept_language))
    reply = Reply({"statements": page.statements, "more": page.more}, 200, {CONSISTENT: page.consistent_through})
    return _with_attachments(ctx, reply, page.attachments, request, binary_types)
