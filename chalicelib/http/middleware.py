"""The one HTTP middleware: correlation ids, log context, problem+json for Chalice's own errors,
no body on HEAD/204/304, metrics flushed per request."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib import observability as obs
from chalicelib.http import problems
from chalicelib.http.routing import actual_path

_CID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_NO_BODY_STATUS = {204, 304}


def edge(request: Any, get_response: Callable[[Any], Response]) -> Response:
    started = time.perf_counter()
    offered = request.headers.get("x-correlation-id", "") if request is not None else ""
    context = getattr(request, "context", None) or {}
    path = actual_path(request) if request is not None else None
    cid = obs.start_request(offered if _CID.match(offered) else context.get("requestId"),
                            method=getattr(request, "method", None), route=getattr(request, "path", None),
                            path=path)
    path_tenant = (getattr(request, "uri_params", None) or {}).get("tenantId")
    if path_tenant:
        obs.bind(tenant_id=path_tenant)
    response = problems.normalise(get_response(request), path)
    response.headers["X-Correlation-Id"] = cid
    if getattr(request, "method", "") == "HEAD" or response.status_code in _NO_BODY_STATUS:
        response.body = ""
    obs.logger().info("request", extra={"status": response.status_code,
                                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    obs.flush()
    return response
