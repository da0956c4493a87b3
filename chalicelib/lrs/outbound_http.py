"""The HTTP side of forwarding: one POST of statements to an external LRS (stdlib urllib, a timeout, no
redirects: a redirect would carry the credentials to wherever it points, and a POST turned into a GET)."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from chalicelib.lrs.forwarding import LOOPBACK
from chalicelib.store.models import XapiForwarding

USER_AGENT = "onramp-lrs-forwarder"
XAPI_VERSION = "1.0.3"
TIMEOUT_SECONDS = 10.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


def _opener(url: str) -> urllib.request.OpenerDirector:
    # the environment's proxies apply, but never to the local stack's loopback LRS
    proxies = urllib.request.ProxyHandler({} if (urlsplit(url).hostname or "") in LOOPBACK else None)
    return urllib.request.build_opener(proxies, _NoRedirects())


def authorization(config: XapiForwarding, secret: str) -> str:
    if config.auth == "bearer":
        return f"Bearer {secret}"
    return "Basic " + base64.b64encode(f"{config.username}:{secret}".encode()).decode()


def _excerpt(body: bytes) -> str:
    return body[:300].decode("utf-8", "replace").strip()


def post_statements(config: XapiForwarding, secret: str, docs: list[dict[str, Any]],
                    timeout: float | None = None) -> tuple[int | None, str]:
    """(HTTP status, detail); status None when no answer came (timeout, connection refused, TLS, DNS)."""
    url = config.endpoint + "statements"
    request = urllib.request.Request(url, data=json.dumps(docs, separators=(",", ":")).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": USER_AGENT,
                                              "X-Experience-API-Version": XAPI_VERSION,
                                              "Authorization": authorization(config, secret)})
    try:
        with _opener(url).open(request, timeout=timeout or TIMEOUT_SECONDS) as resp:
            resp.read()
            return int(resp.status), ""
    except urllib.error.HTTPError as err:
        detail = _excerpt(err.read() or b"")
        if 300 <= err.code < 400:
            detail = f"redirected to {err.headers.get('Location', '?')}: set the endpoint to the final URL"
        return int(err.code), detail or str(err.reason)
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, refusals, TLS, a garbled answer
        reason = getattr(exc, "reason", exc)
        return None, f"{type(reason).__name__}: {reason}"
