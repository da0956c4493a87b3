"""Package ingest: presigned upload -> S3 event (through the SQS handler) -> a draft version, or a problem."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from chalicelib.content import starter
from tests.unit import package_zips


@pytest.fixture()
def course(api):
    tenant = api.make_tenant()
    admin = api.tenant_admin(tenant["id"])
    resp = api.call("POST", f"/v1/tenants/{tenant['id']}/courses", admin, {"title": "Prospecting 101"})
    return {"tenant": tenant["id"], "admin": admin, **api.json(resp)}


def _upload(api, course, data: bytes) -> dict:
    import boto3

    from chalicelib.config import settings

    base = f"/v1/tenants/{course['tenant']}/courses/{course['id']}"
    resp = api.call("POST", f"{base}/uploads", course["admin"], {"fileName": "course.zip"})
    assert resp.status_code == 201, resp.body
    slot = api.json(resp)
    assert slot["status"] == "pending" and slot["upload"]["method"] == "POST"
    assert slot["upload"]["fields"]["key"].startswith(f"uploads/{course['tenant']}/{course['id']}/")
    key = slot["upload"]["fields"]["key"]
    boto3.client("s3").put_object(Bucket=settings().bucket_name, Key=key, Body=data)  # what the browser POSTs
    s3_event = {"Records": [{"eventName": "ObjectCreated:Post", "s3": {"object": {"key": key, "size": len(data)}}}]}
    sqs_event = api.client.events.generate_sqs_event(message_bodies=[json.dumps(s3_event)], queue_name="uploads")
    api.client.lambda_.invoke("on_package_uploaded", sqs_event)
    return api.json(api.call("GET", f"{base}/uploads/{slot['id']}", course["admin"]))


def _objects(prefix: str) -> list[str]:
    import boto3

    from chalicelib.config import settings

    listing = boto3.client("s3").list_objects_v2(Bucket=settings().bucket_name, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


@pytest.mark.parametrize("slug", sorted(starter.STARTER))
def test_starter_packages_ingest_into_draft_versions(api, course, slug):
    done = _upload(api, course, starter.build(slug))
    assert done["status"] == "ingested", done
    assert done["versionNumber"] == 1
    version = api.json(api.call("GET", f"/v1/tenants/{course['tenant']}/courses/{course['id']}/versions/1",
                                course["admin"]))
    assert version["status"] == "draft" and version["format"] == starter.STARTER[slug].format
    files = _objects(f"packages/{course['tenant']}/{course['id']}/{done['id']}/")
    assert len(files) == version["fileCount"] and any(f.endswith("imsmanifest.xml") for f in files)
    if slug == "closing-techniques":
        assert [s["id"] for s in version["scos"]] and len(version["scos"]) == 2


def test_a_redelivered_event_ingests_nothing_twice(api, course):
    first = _upload(api, course, starter.build("prospecting-101"))
    from chalicelib.content import ingest

    assert ingest.ingest(course["tenant"], course["id"], first["id"]) == "ingested"
    versions = api.json(api.call("GET", f"/v1/tenants/{course['tenant']}/courses/{course['id']}/versions",
                                 course["admin"]))["items"]
    assert len(versions) == 1


def _evil(kind: str) -> bytes:
    z = package_zips
    good = {"tincan.xml": z.TINCAN_XML, "story.html": z.PAGE}
    if kind == "zip-slip":
        return z.build_zip({**good, "../../evil.html": b"x"})
    if kind == "xxe":
        return z.build_zip({"tincan.xml": z.XXE, "story.html": z.PAGE})
    if kind == "billion-laughs":
        return z.build_zip({"tincan.xml": z.BILLION_LAUGHS, "story.html": z.PAGE})
    if kind == "bomb":  # 150 MB of zeros in a few hundred KB
        return z.build_zip({**good, "zeros.bin": bytes(150 * 1024 * 1024)})
    if kind == "symlink":
        return z.build_zip([*good.items(), z.symlink_entry("link.html", "/etc/passwd")])
    if kind == "manifest-missing":
        return z.build_zip({"index.html": z.PAGE})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a valid manifest whose launch file is missing
        zf.writestr("imsmanifest.xml", z.scorm12_manifest())
    return buf.getvalue()


REASONS = {"zip-slip": "zip-slip", "xxe": "xml-forbidden", "billion-laughs": "xml-forbidden", "bomb": "zip-bomb",
           "symlink": "symlink", "manifest-missing": "manifest-missing", "launch-missing": "launch-missing",
           "not-a-zip": "not-a-zip"}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_rejected_packages_leave_nothing_and_say_why(api, course, kind):
    data = b"definitely not a zip" if kind == "not-a-zip" else _evil(kind)
    done = _upload(api, course, data)
    assert done["status"] == "rejected"
    assert done["problem"]["reason"] == REASONS[kind], done["problem"]
    assert done["problem"]["errors"][0]["field"] == "package"
    assert _objects(f"packages/{course['tenant']}/{course['id']}/") == []
    resp = api.call("GET", f"/v1/tenants/{course['tenant']}/courses/{course['id']}/versions", course["admin"])
    assert api.json(resp)["items"] == []
