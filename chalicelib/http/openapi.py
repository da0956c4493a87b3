"""The OpenAPI 3.1 document, built from the route specs and the pydantic request models."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalicelib.auth.scopes import SCOPES
from chalicelib.http.routing import SPECS, RouteSpec

_PARAM = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{model}"
_FORM = "application/x-www-form-urlencoded"
_DESCRIPTIONS = {200: "OK", 201: "Created", 204: "No content", 400: "Invalid request",
                 401: "Missing, expired or invalid token", 403: "Not allowed for this token",
                 404: "Not found (or not visible to this token)", 409: "Conflict",
                 413: "Request body too large", 415: "Unsupported media type",
                 422: "Idempotency key reused with another body", 429: "Too many requests"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}}


def _model_names() -> list[str]:
    names = {n for s in SPECS for n in (s.body, s.query) if n}
    return sorted(names)


def _parameters(spec: RouteSpec, components: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,127}$"}}
        for name in _PARAM.findall(spec.path)
    ]
    if spec.query:
        schema = components[spec.query]
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop,
                           **({"description": prop["description"]} if "description" in prop else {})})
    if spec.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                       "description": "Retries with the same key return the first result."})
    return params


def _operation(spec: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": spec.summary, "tags": [spec.tag],
                          "operationId": re.sub(r"\W+", "_", f"{spec.method}_{spec.path}").strip("_").lower()}
    params = _parameters(spec, components)
    if params:
        op["parameters"] = params
    if spec.body:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": _REF.format(model=spec.body)}}}}
    elif spec.content_types == (_FORM,):
        form = {"schema": {"$ref": _REF.format(model="TokenRequest")}}
        op["requestBody"] = {"required": True, "content": {_FORM: form}}
    elif spec.method in ("POST", "PUT") and spec.content_types != ("application/json",):
        op["requestBody"] = {"required": False, "content": {ct: {"schema": {}} for ct in spec.content_types}}
    ok: dict[str, Any] = {"description": _DESCRIPTIONS.get(spec.status, "OK")}
    if spec.status != 204:
        ok["content"] = {spec.produces: {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {str(spec.status): ok}
    codes = set(spec.responses) | {400, 415} if spec.body else set(spec.responses)
    if not spec.public:
        codes |= {401, 403}
        op["security"] = [{"bearer": [spec.scope] if spec.scope else []}]
    if spec.tenant_scoped:
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = _problem(_DESCRIPTIONS.get(code, "Error"))
    op["responses"] = responses
    return op


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    from pydantic import TypeAdapter
    from pydantic.json_schema import models_json_schema

    from chalicelib.api import schemas

    models: list[Any] = [(getattr(schemas, n), "validation") for n in _model_names()]
    _, defs = models_json_schema(models, ref_template=_REF)
    components = dict(defs.get("$defs", {}))
    components["Problem"] = TypeAdapter(dict).json_schema() | {
        "type": "object", "required": ["type", "title", "status"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"},
                       "instance": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object"}}}}
    components["TokenRequest"] = {
        "type": "object", "required": ["grant_type"],
        "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                       "scope": {"type": "string"}, "client_id": {"type": "string"},
                       "client_secret": {"type": "string"}}}
    paths: dict[str, Any] = {}
    for spec in SPECS:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Onramp API", "version": "1.0.0",
                 "description": "Multi-tenant LMS for sales-training companies and their partner channels."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {
                "type": "oauth2", "description": "RS256 JWT access tokens (client credentials or a login).",
                "flows": {"clientCredentials": {"tokenUrl": "/v1/oauth/token", "scopes": dict(SCOPES)}}}},
        },
    }
