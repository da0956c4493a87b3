"""`onramp users import`: a CSV of users into a tenant over the public API, as any client would.

token -> import slot -> multipart POST of the CSV to S3's presigned URL -> poll the import (progress) until
completed or failed -> fetch the error report, if any. Only the standard library (see content.client).
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from typing import Any

from chalicelib.content.client import ApiError, Client, multipart

DONE = ("completed", "failed")


def run_import(client: Client, tenant_id: str, data: bytes, filename: str, *, timeout: float = 1800,
               progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Returns the finished import (status, counts, errorReport URL or None)."""
    base = f"/v1/tenants/{tenant_id}/user-imports"
    slot = client.call("POST", base, {"fileName": filename, "sizeBytes": len(data)})
    body, content_type = multipart(slot["upload"]["fields"], "file", filename, data, "text/csv")
    progress(f"uploading {len(data):,} bytes")
    client.call("POST", "", raw=body, headers={"Content-Type": content_type}, url=slot["upload"]["url"])
    deadline, said = time.monotonic() + timeout, ""
    while True:
        done = client.call("GET", f"{base}/{slot['id']}")
        line = _progress_line(done)
        if line != said:
            progress(line)
            said = line
        if done["status"] in DONE:
            return dict(done)
        if time.monotonic() > deadline:
            raise ApiError(f"import {slot['id']} is still {done['status']} after {timeout:.0f}s")
        time.sleep(0.5)


def _progress_line(doc: dict[str, Any]) -> str:
    if doc["status"] != "processing" or not doc.get("rows"):
        return str(doc["status"]).replace("_", " ")
    return f"processing: {doc['processed']:,} of {doc['rows']:,} rows ({100 * doc['processed'] // doc['rows']}%)"


def fetch_report(url: str) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url), timeout=60) as resp:
        data: bytes = resp.read()
    return data
