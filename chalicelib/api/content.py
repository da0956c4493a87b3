"""Content routes: course files behind a content token (`/play/…`) and public assets (`/content/…`).

Chalice (and `chalice local`) has no greedy path parameter, so each depth up to MAX_DEPTH is its own
route. They serve files (any content type, bytes where binary), and their errors are problem+json.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.http.routing import Call, route
from chalicelib.lazy import lazy

bp = Blueprint(__name__)
serve = lazy("chalicelib.content.serve")
MAX_DEPTH = 8  # = chalicelib.content.serve.MAX_DEPTH (not imported: route modules load lazily)
PLAY, ASSETS = "/play/{token}", "/content"
TAG = "Player"


def _parts(params: dict[str, str]) -> list[str]:
    return [params[f"p{i}"] for i in range(1, len(params) + 1) if f"p{i}" in params]


def _play(call: Call) -> Any:
    return serve.course_file(call.params["token"], _parts(call.params))


def _asset(call: Call) -> Any:
    return serve.asset(_parts(call.params))


def _register(root: str, depth: int, view: Callable[[Call], Any], summary: str) -> None:
    path = root + "".join(f"/{{p{i}}}" for i in range(1, depth + 1))

    def handler(call: Call) -> Any:
        return view(call)

    handler.__name__ = handler.__qualname__ = f"{view.__name__.strip('_')}_{depth}"
    route(bp, "GET", path, summary=summary, tag=TAG, public=True, produces="application/octet-stream",
          responses=(401, 404))(handler)


for _depth in range(1, MAX_DEPTH + 1):
    _register(PLAY, _depth, _play, f"A file of the launched course version ({_depth} path segments)")
    _register(ASSETS, _depth, _asset, f"A public asset: player, default branding ({_depth} path segments)")
