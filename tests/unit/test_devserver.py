"""The hardened local server (chalicelib.devserver) over real sockets, on a small Chalice app.

Every exchange of a test runs on ONE keep-alive connection: a stray body byte (a HEAD body, the `null`
of a 204) would make the next response on that socket unparseable.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice import Chalice, Response

from chalicelib.devserver import local_server
from chalicelib.http.routing import TextResponse

MIXED_BODY = "--b\r\nContent-Type: text/plain\r\n\r\ncaf\u00e9 \u2713\r\n--b--\r\n"


def _toy_app() -> Chalice:
    app = Chalice(app_name="devserver-toy")

    @app.route("/things", methods=["GET", "HEAD"])
    def things() -> dict[str, Any]:
        return {"items": [1, 2, 3]}

    @app.route("/things", methods=["POST"], content_types=["application/json"])
    def add_thing() -> Response:
        return Response(body={"got": app.current_request.json_body}, status_code=201)

    @app.route("/empty", methods=["DELETE"])
    def empty() -> Response:
        return Response(body=None, status_code=204)  # stock `chalice local` sends `null` here

    @app.route("/cached", methods=["GET"])
    def cached() -> Response:
        return Response(body={"would": "leak"}, status_code=304)

    app.api.binary_types.append("multipart/mixed")

    @app.route("/mixed", methods=["GET", "HEAD"])
    def mixed() -> Response:  # a UTF-8 body under a binary type, sent as text whatever the Accept
        return TextResponse(MIXED_BODY, "multipart/mixed; boundary=b")

    @app.route("/boom", methods=["GET"])
    def boom() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    dev = local_server(_toy_app(), "127.0.0.1", 0)
    host, port = dev.server.server_address[:2]
    thread = threading.Thread(target=dev.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield host, port
    dev.server.shutdown()
    dev.server.server_close()


@pytest.fixture()
def conn(server: tuple[str, int]) -> Iterator[http.client.HTTPConnection]:
    c = http.client.HTTPConnection(*server, timeout=5)
    yield c
    c.close()


def _ask(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp, resp.read()


def test_head_has_no_body_and_the_socket_stays_usable(conn: http.client.HTTPConnection) -> None:
    resp, body = _ask(conn, "HEAD", "/things")
    assert resp.status == 200 and body == b""
    assert resp.getheader("Content-Length") is None
    resp, body = _ask(conn, "GET", "/things")  # same socket
    assert resp.status == 200 and json.loads(body) == {"items": [1, 2, 3]}


def test_204_and_304_have_no_body(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"DELETE /empty HTTP/1.1\r\nHost: x\r\n\r\nGET /cached HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /things HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    first, rest = raw.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 204") and b"Content-Length" not in first
    assert rest.startswith(b"HTTP/1.1 304"), rest[:40]  # nothing (no `null`) between the two
    second, rest = rest.split(b"\r\n\r\n", 1)
    assert b"Content-Length" not in second
    assert rest.startswith(b"HTTP/1.1 200")
    assert rest.endswith(b'{"items":[1,2,3]}')


@pytest.mark.parametrize("verb", ["TRACE", "QUERY", "PROPFIND", "BREW"])
def test_unknown_verb_is_405_problem_with_allow(conn: http.client.HTTPConnection, verb: str) -> None:
    resp, body = _ask(conn, verb, "/things", body=b'{"ignored": true}',
                      headers={"Content-Type": "application/json"})
    assert resp.status == 405
    assert resp.getheader("Content-Type") == "application/problem+json"
    assert resp.getheader("Allow") == "GET, HEAD, OPTIONS, POST"
    doc = json.loads(body)
    assert doc["status"] == 405 and doc["type"] == "/problems/method-not-allowed" and verb in doc["detail"]
    resp, body = _ask(conn, "POST", "/things", body=b'{"n": 1}', headers={"Content-Type": "application/json"})
    assert resp.status == 201 and json.loads(body) == {"got": {"n": 1}}  # the body above was consumed


def test_unknown_verb_on_unknown_path_lists_every_verb(conn: http.client.HTTPConnection) -> None:
    resp, _ = _ask(conn, "TRACE", "/nowhere")
    assert resp.status == 405
    assert resp.getheader("Allow") == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def test_chunked_request_body_is_read(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n4\r\n{\"n\"\r\n3\r\n: 2\r\n1\r\n}\r\n0\r\n\r\n"
                     b"GET /things HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 201")
    assert b'{"got":{"n":2}}' in raw
    assert raw.count(b"HTTP/1.1 200") == 1


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"POST /things HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n", 400),  # bad length: 400, close
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),  # the stdlib's own errors are problems too
])
def test_malformed_requests_get_a_problem_and_the_socket_closes(server: tuple[str, int], request_bytes: bytes,
                                                                status: int) -> None:
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(request_bytes)
        raw = b""
        while chunk := sock.recv(65536):  # reads until the server closes
            raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 %d" % status) and b"application/problem+json" in head
    assert json.loads(body)["status"] == status


def test_a_crashing_view_is_a_500_and_the_server_lives_on(conn: http.client.HTTPConnection) -> None:
    resp, _ = _ask(conn, "GET", "/boom")  # Chalice itself turns a view's exception into a 500
    assert resp.status == 500
    conn.close()
    resp, body = _ask(conn, "GET", "/things")
    assert resp.status == 200


def test_a_crash_in_the_local_gateway_is_a_500_problem_not_a_dropped_socket(
        conn: http.client.HTTPConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    import chalice.local

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("gateway bug")

    monkeypatch.setattr(chalice.local.LocalGateway, "handle_request", broken)
    resp, body = _ask(conn, "GET", "/things")
    assert resp.status == 500 and resp.getheader("Content-Type") == "application/problem+json"
    assert json.loads(body)["status"] == 500 and "gateway bug" not in body.decode()
    assert resp.getheader("Connection") == "close"  # after a crash the socket's state is unknown
    monkeypatch.undo()
    conn.close()
    resp, _ = _ask(conn, "GET", "/things")  # and the server lives on
    assert resp.status == 200


def test_a_text_response_under_a_binary_type_needs_no_binary_accept(conn: http.client.HTTPConnection) -> None:
    """Chalice would answer 400 without a binary Accept (and base64 with one); TextResponse goes out as text."""
    for accept in ({}, {"Accept": "multipart/mixed"}):
        resp, body = _ask(conn, "GET", "/mixed", headers=accept)
        assert resp.status == 200 and body == MIXED_BODY.encode()
        assert resp.getheader("Content-Type") == "multipart/mixed; boundary=b"
    resp, body = _ask(conn, "HEAD", "/mixed")  # same socket: no body on HEAD
    assert resp.status == 200 and body == b""
    resp, body = _ask(conn, "GET", "/things")
    assert resp.status == 200 and json.loads(body) == {"items": [1, 2, 3]}
