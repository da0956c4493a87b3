"""Service routes: health, the OpenAPI document and its docs page."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, Reply, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
health = lazy("chalicelib.health")
openapi = lazy("chalicelib.http.openapi")
pages = lazy("chalicelib.pages")
TAG = "Service"


@route(bp, "GET", "/v1/health", summary="Health: the table answers", tag=TAG, public=True, responses=(503,))
def get_health(call: Call) -> Any:
    report = health.check()
    return Reply(report, 200 if report["status"] == "ok" else 503, {"Cache-Control": "no-store"})


@route(bp, "GET", "/openapi.json", summary="This API's OpenAPI 3.1 document", tag=TAG, public=True)
def get_openapi(call: Call) -> Any:
    return openapi.document()


@route(bp, "GET", "/docs", summary="Human-readable API documentation", tag=TAG, public=True,
       produces="text/html")
def get_docs(call: Call) -> Any:
    return Reply(pages.render("docs.html", doc=openapi.document()), 200,
                 {"Content-Type": "text/html; charset=utf-8"})
