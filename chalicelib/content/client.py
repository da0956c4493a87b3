"""`onramp courses upload`: put a package into a course over the public API, as any client would.

Operator credentials (client credentials) -> token -> [create the course] -> upload slot -> multipart
POST of the zip to S3's presigned URL -> poll the upload until ingested or rejected -> [publish]. Only
the standard library: the CLI must work before anything else is installed into the API's process.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


class ApiError(Exception):
    """The API (or S3) said no: the status and the problem's detail, in one line."""


@dataclass
class Client:
    api: str
    token: str = ""

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
             headers: dict[str, str] | None = None, url: str | None = None) -> Any:
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
        if self.token and url is None:
            hdrs["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(url or self.api + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                text = resp.read()
        except urllib.error.HTTPError as err:
            raise ApiError(f"{method} {path or url}: {err.code} {_detail(err.read())}") from None
        except urllib.error.URLError as err:
            raise ApiError(f"{self.api} is not answering ({err.reason}): is `make run` running?") from None
        return json.loads(text) if text.strip().startswith((b"{", b"[")) else None

    def login(self, client_id: str, secret: str) -> None:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        form = urlencode({"grant_type": "client_credentials"}).encode()
        doc = self.call("POST", "/v1/oauth/token", raw=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
        self.token = str(doc["access_token"])


def _detail(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace")
    fields = ", ".join(f"{e.get('field')}: {e.get('detail')}" for e in doc.get("errors") or [])
    return f"{doc.get('detail') or doc.get('title') or doc.get('message')}{f' ({fields})' if fields else ''}"


def multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes,
              file_type: str = "application/zip") -> tuple[bytes, str]:
    """A multipart/form-data body: S3's presigned POST wants the policy fields first, the file last."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: {file_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(client: Client, base: str, package: bytes, filename: str, *, course_id: str | None = None,
           title: str | None = None, publish: bool = False, timeout: float = 300,
           progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """`base` is `/v1/tenants/<id>` or `/v1/library`; returns {course, upload, version?}."""
    if course_id is None:
        course = client.call("POST", f"{base}/courses", {"title": title or filename.rsplit(".", 1)[0]})
        course_id = str(course["id"])
        progress(f"created course {course_id}")
    courses = f"{base}/courses/{course_id}"
    slot = client.call("POST", f"{courses}/uploads", {"fileName": filename, "sizeBytes": len(package)})
    body, content_type = multipart(slot["upload"]["fields"], "file", filename, package)
    progress(f"uploading {len(package):,} bytes")
    client.call("POST", "", raw=body, headers={"Content-Type": content_type}, url=slot["upload"]["url"])
    progress("ingesting")
    deadline = time.monotonic() + timeout
    while True:
        done = client.call("GET", f"{courses}/uploads/{slot['id']}")
        if done["status"] in ("ingested", "rejected"):
            break
        if time.monotonic() > deadline:
            raise ApiError(f"upload {slot['id']} is still {done['status']} after {timeout:.0f}s")
        time.sleep(0.5)
    if done["status"] == "rejected":
        problem = done.get("problem") or {}
        raise ApiError(f"the package was rejected: {problem.get('reason')}: {problem.get('detail')}")
    result: dict[str, Any] = {"courseId": course_id, "upload": done}
    if publish:
        result["version"] = client.call("POST", f"{courses}/versions/{done['versionNumber']}/publish")
        progress(f"published version {done['versionNumber']}")
    return result
