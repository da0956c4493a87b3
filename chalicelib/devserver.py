"""The local HTTP server: Chalice's own `LocalDevServer` with a stricter request handler.

Stock `chalice local` writes a body on HEAD and sends `null` on a 204, which breaks keep-alive clients
on their next request, and answers verbs it does not know (TRACE, QUERY, ...) with a 501 HTML page.
`HardenedRequestHandler` fixes those at the socket:

- no body (and no Content-Length) on HEAD, 1xx, 204 and 304 responses;
- an unknown verb is a 405 problem+json with an `Allow` header (the route's methods when the path is a
  route), after its request body was read, so the connection stays usable;
- the stdlib's own errors (bad request line, header too long...) are problem+json too;
- chunked request bodies are read (and de-chunked) instead of being left on the socket;
- a malformed Content-Length is a 400 that closes the connection; a crash is a 500 problem, never a
  dropped socket.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    RouteMatcher,
)

from chalicelib.http import problems

PROBLEM = problems.PROBLEM_TYPE
KNOWN_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_MAX_CHUNKED_BODY = 16 * 1024 * 1024


class _BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _problem(status: int, detail: str, instance: str | None = None) -> str:
    return json.dumps(problems.for_status(status, detail, instance))


def _no_body(method: str | None, status: int) -> bool:
    return method == "HEAD" or status in (204, 304) or 100 <= status < 200


class HardenedRequestHandler(ChaliceRequestHandler):
    """A stricter `chalice.local.ChaliceRequestHandler` (HTTP/1.1, keep-alive safe)."""

    server_version = "onramp-local"

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        # BaseHTTPRequestHandler handles the whole connection inside __init__: set state first.
        self._app = app_object
        self._started = False
        super().__init__(request, client_address, server, app_object=app_object, config=config)

    # -- reading ---------------------------------------------------------------------------------
    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        headers = dict(self.headers)
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
            headers = {k: v for k, v in headers.items() if k.lower() != "transfer-encoding"}
            headers["Content-Length"] = str(len(body))
            return headers, body or None
        raw = self.headers.get("content-length")
        try:
            length = int(raw) if raw is not None else 0
        except ValueError:
            raise _BadRequest(400, f"Content-Length `{raw}` is not a number.") from None
        if length < 0:
            raise _BadRequest(400, "Content-Length is negative.")
        return headers, (self.rfile.read(length) if length > 0 else None)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1026).strip()
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise _BadRequest(400, "Malformed chunked body.") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > _MAX_CHUNKED_BODY:
                raise _BadRequest(413, "The chunked body is too large.")
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)

    # -- dispatch --------------------------------------------------------------------------------
    def _generic_handle(self) -> None:
        try:
            super()._generic_handle()
        except _BadRequest as exc:
            self.close_connection = True
            self._send_problem(exc.status, exc.detail, {"Connection": "close"})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # noqa: BLE001 - the dev server answers, it never drops the socket
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self._started:
                self._send_problem(500, "The local server failed on this request; see its console.",
                                   {"Connection": "close"})

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _allowed(self) -> list[str]:
        try:
            route = RouteMatcher(list(self._app.routes)).match_route(getattr(self, "path", "")).route
        except ValueError:
            return list(KNOWN_METHODS)
        return sorted(set(self._app.routes[route]) | {"OPTIONS"})

    def _method_not_allowed(self) -> None:
        try:
            self._parse_payload()  # read the body so the next request on this socket parses
        except _BadRequest:
            self.close_connection = True
        allowed = self._allowed()
        detail = f"{self.command} is not supported here; allowed: {', '.join(allowed)}."
        self._send_problem(405, detail, {"Allow": ", ".join(allowed)})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's errors: an unknown verb becomes a 405, the rest problem+json (and close)."""
        command = self.command or ""
        if code == 501 and command and not hasattr(self, "do_" + command):
            self._method_not_allowed()
            return
        self.close_connection = True
        status = 405 if code == 501 else code
        self._send_problem(status, message or problems.for_status(status, "")["title"], {"Connection": "close"})

    def _send_problem(self, status: int, detail: str, extra: dict[str, str] | None = None) -> None:
        path = (getattr(self, "path", "") or "").split("?")[0] or None
        self._send_http_response(status, {"Content-Type": PROBLEM, **(extra or {})},
                                 _problem(status, detail, path))

    # -- writing ---------------------------------------------------------------------------------
    def send_response(self, code: int, message: str | None = None) -> None:
        self._started = True
        super().send_response(code, message)

    def _send_http_response(self, code: int, headers: dict[str, Any], body: str | bytes | None) -> None:
        if not _no_body(self.command, code):
            super()._send_http_response(code, headers, body if body is not None else b"")
            return
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "transfer-encoding")}
        if code in (204, 304) or code < 200:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        elif not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        self.send_response(code)
        self._send_headers(headers)


def local_server(app: Any, host: str, port: int, stage: str = "dev",
                 handler_cls: type[ChaliceRequestHandler] = HardenedRequestHandler) -> LocalDevServer:
    """Chalice's LocalDevServer for `app` with the hardened handler (binds the port now).

    As `chalice.local.create_local_server` does, the app's class is switched to one whose
    `current_request` is thread-local, since the server answers each connection on its own thread.
    """
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    config = Config.create(chalice_stage=stage, app_name=getattr(app, "app_name", "app"))
    return LocalDevServer(app, config, host, port, handler_cls=handler_cls)
