"""Route declaration: one decorator registers a Chalice route and does the edge work around it.

parse (size, JSON, pydantic model) -> authenticate -> authorise (path tenant, scope) -> the view's one
service call -> render; typed errors become problem+json here. The RouteSpec kept for every route feeds
the OpenAPI document and the isolation tests.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, CORSConfig, Response

from chalicelib.auth.principal import Principal, TenantContext
from chalicelib.config import settings
from chalicelib.errors import MalformedBody, OnrampError, PayloadTooLarge, ValidationFailed, field_error
from chalicelib.http import problems
from chalicelib.lazy import lazy

schemas = lazy("chalicelib.api.schemas")
_tokens = lazy("chalicelib.auth.tokens")
_rbac = lazy("chalicelib.auth.rbac")
_idempotency = lazy("chalicelib.http.idempotency")
_obs = lazy("chalicelib.observability")
_lrs_auth = lazy("chalicelib.lrs.credentials")
_lrs_protocol = lazy("chalicelib.lrs.protocol")
_scim_auth = lazy("chalicelib.scim.tokens")

JSON = "application/json"
# Portals call the API from browsers with bearer tokens (no cookies), so any origin may call it.
CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type", "Idempotency-Key",
                                                  "X-Correlation-Id"],
                  expose_headers=["Location", "X-Correlation-Id", "Idempotent-Replayed", "Retry-After"],
                  max_age=600)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    summary: str
    tag: str
    scope: str | None = None  # None with public=True: no token needed
    body: str | None = None  # name of a model in chalicelib.api.schemas
    query: str | None = None
    status: int = 200
    public: bool = False
    idempotent: bool = False
    content_types: tuple[str, ...] = (JSON,)
    produces: str = JSON
    responses: tuple[int, ...] = ()
    # bearer | xapi (HTTP Basic with the path tenant's LRS credentials, or a bearer token; and the version header)
    # | scim (a SCIM token of the path tenant, or a bearer token)
    auth: str = "bearer"
    headers: tuple[tuple[str, str], ...] = ()  # on every response of the route, errors included
    cors: CORSConfig | None = None  # None: the API's CORS
    # A request in another syntax (e.g. xAPI's `POST ?method=PUT` form): returns the method it stands for and
    # the request as that method would have received it, served by the route of that method on this path.
    rewrite: Callable[[Any], tuple[str, Any] | None] | None = field(default=None, compare=False)
    # errors in the protocol's own shape (SCIM Error bodies) instead of problem+json
    render_error: Callable[[OnrampError, str], Response] | None = field(default=None, compare=False)

    @property
    def tenant_scoped(self) -> bool:
        return "{tenantId}" in self.path


SPECS: list[RouteSpec] = []
_VIEWS: dict[tuple[str, str], tuple[RouteSpec, Callable[[Call], Any]]] = {}  # (path, method) -> route


@dataclass
class Call:
    """What a view gets: the validated request and who is asking."""

    request: Any
    params: dict[str, str]
    principal: Principal | None
    ctx: TenantContext | None
    body: Any
    query: Any
    correlation_id: str

    @property
    def subject(self) -> str:
        """Who is calling (authenticated routes only)."""
        assert self.principal is not None, "a public route has no caller"
        return self.principal.subject

    def partner(self, scope: str) -> TenantContext:
        """The path's `{partnerId}` as a TenantContext (auth.rbac.authorize): a tenant the caller has no relation
        to is a 404, a missing scope a 403; the partner services check that it is a `partner`."""
        from chalicelib.auth import rbac

        assert self.principal is not None, "a public route has no caller"
        return rbac.authorize(self.principal, self.params["partnerId"], scope, self.correlation_id)


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # a str body sent as text even when its Content-Type is a binary media type (see TextResponse)
    text: bool = False


class TextResponse(Response):
    """A str body sent as text (`isBase64Encoded` false) even under one of `app.api.binary_types`.

    Chalice answers its own 400 when a response's Content-Type is a binary type and the request's Accept
    names none, and base64-encodes the body of every such response; API Gateway (REST, Lambda proxy)
    passes a text body through unchanged whatever the Accept. A UTF-8 body needs neither, so this
    response keeps its Content-Type out of `headers` (what Chalice's check reads; it defaults to JSON)
    and adds it only in `to_dict`, the event Lambda returns, which it builds without the binary encoding.
    Request bodies under that type still reach Lambda byte-exact (e.g. multipart/mixed uploads).
    """

    def __init__(self, body: str, content_type: str, headers: dict[str, Any] | None = None,
                 status_code: int = 200) -> None:
        super().__init__(body, {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"},
                         status_code)
        self.content_type = content_type

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        out = super().to_dict(None)
        out["headers"]["Content-Type"] = self.content_type
        return out


def route(bp: Blueprint, method: str, path: str, *, summary: str, tag: str,
          **options: Any) -> Callable[[Callable[[Call], Any]], Callable[..., Response]]:
    spec = RouteSpec(method=method, path=path, summary=summary, tag=tag,
                     idempotent=options.pop("idempotent", method == "POST"), **options)

    def register(view: Callable[[Call], Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def handler(**params: str) -> Response:
            request = bp.current_request
            instance = actual_path(request) if request is not None else path
            served = spec
            try:
                rewritten = spec.rewrite(request) if spec.rewrite and request is not None else None
                if rewritten is None:
                    response = _handle(spec, view, request, params)
                else:
                    intended, request = rewritten
                    if (path, intended) not in _VIEWS:
                        raise ValidationFailed(f"{intended} is not a method of {path}.",
                                               errors=[field_error("method", "not allowed here", "method")])
                    served, target = _VIEWS[(path, intended)]
                    response = _handle(served, target, request, params)
            except OnrampError as err:
                response = (served.render_error or problems.from_error)(err, instance)
            response.headers.update(dict(served.headers))
            return response

        handler.spec = spec  # type: ignore[attr-defined]
        methods = [method, "HEAD"] if method == "GET" else [method]
        bp.route(path, methods=methods, content_types=list(spec.content_types),
                 cors=spec.cors or CORS)(handler)
        SPECS.append(spec)
        _VIEWS[(path, method)] = (spec, view)
        return handler

    return register


def actual_path(request: Any) -> str:
    """The requested path (Chalice's `request.path` is the route template)."""
    event = request.to_original_event()
    return str(event.get("path") or (request.context or {}).get("path") or request.path)


def _handle(spec: RouteSpec, view: Callable[[Call], Any], request: Any, params: dict[str, str]) -> Response:
    raw = request.raw_body or b""
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge(f"The body is {len(raw)} bytes; the limit is {settings().max_body_bytes}.")
    correlation_id = _obs.correlation_id()
    principal = ctx = None
    if not spec.public:
        header = request.headers.get("authorization")
        if spec.auth == "xapi":
            principal = _lrs_auth.principal_from_header(header, params["tenantId"])
        elif spec.auth == "scim":
            principal = _scim_auth.principal_from_header(header, params["tenantId"])
        else:
            principal = _tokens.from_authorization_header(header)
        _rbac.check_principal_active(principal)
        if spec.tenant_scoped:
            ctx = _rbac.authorize(principal, params["tenantId"], spec.scope or "", correlation_id)
        elif spec.scope:
            _rbac.require_scope(principal, spec.scope)
        _obs.bind(tenant_id=ctx.tenant_id if ctx else principal.tenant_id, subject=principal.subject)
        if spec.auth == "xapi":  # the xAPI protocol: every resource but `about` needs the version header
            _lrs_protocol.require_version(request)
    call = Call(request=request, params=params, principal=principal, ctx=ctx,
                body=parse_body(spec.body, raw) if spec.body else None,
                query=parse_query(spec.query, request.query_params) if spec.query else None,
                correlation_id=correlation_id)
    key = request.headers.get(_idempotency.HEADER) if spec.idempotent else None
    if key and principal is not None:
        tenant = ctx.tenant_id if ctx else principal.tenant_id
        produced = _idempotency.run_once(
            tenant, f"{principal.subject}|{spec.method} {actual_path(request)}", key, raw,
            lambda: _render(spec, view(call)), getattr(request, "lambda_context", None))
        return _response(produced)
    return _response(_render(spec, view(call)))


def _render(spec: RouteSpec, result: Any) -> dict[str, Any]:
    if isinstance(result, Response):
        return {"status": result.status_code, "body": result.body, "headers": dict(result.headers)}
    reply = result if isinstance(result, Reply) else Reply(result, spec.status)
    if reply.text:
        return {"status": reply.status, "body": reply.body, "headers": reply.headers, "text": True}
    return {"status": reply.status, "body": reply.body, "headers": reply.headers}


def _response(rendered: dict[str, Any]) -> Response:
    headers = {"Content-Type": JSON, **rendered.get("headers", {})}
    if rendered.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    if rendered.get("text"):
        return TextResponse(rendered["body"], headers["Content-Type"], headers, int(rendered["status"]))
    return Response(body=rendered["body"], status_code=int(rendered["status"]), headers=headers)


def _validation_errors(exc: Any, where: str) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = ".".join(loc) or where
        out.append(field_error(name, err.get("msg", "invalid"), "#/" + "/".join(loc) if where == "body" else name))
    return out


def parse_body(model_name: str, raw: bytes) -> Any:
    if not raw.strip():
        raise ValidationFailed("A JSON object body is required.", errors=[field_error("body", "missing", "#")])
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from None
    return validate(model_name, data, "body")


def parse_query(model_name: str, query: Any) -> Any:
    data = {k: query.getlist(k) if len(query.getlist(k)) > 1 else query[k] for k in query} if query else {}
    return validate(model_name, data, "query")


def validate(model_name: str, data: Any, where: str) -> Any:
    from pydantic import ValidationError

    model = getattr(schemas, model_name)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = _validation_errors(exc, where)
        names = ", ".join(sorted({e["field"] for e in errors}))
        raise ValidationFailed(f"Invalid {where}: {names}.", errors=errors) from None
