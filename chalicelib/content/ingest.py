"""Package uploads: presigned POST -> S3 event -> inspect -> extract -> a draft course version.

The object key names the upload (`uploads/<owner>/<courseId>/<uploadId>.zip`); the ingest handler
claims the pending upload (a retried S3 event ingests nothing twice), inspects the zip
(`content.packages`), copies its files under the version's own prefix, and adds the draft version in one
transaction. A rejected package leaves nothing behind: its extracted files are deleted and the upload
records the problem the uploader reads at `GET …/uploads/{uploadId}`.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, cast
from urllib.parse import unquote_plus

from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib import aws, observability
from chalicelib.catalog import courses
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.config import settings
from chalicelib.content import MAX_PACKAGE_BYTES
from chalicelib.errors import NotFound, OnrampError
from chalicelib.store import keys
from chalicelib.store.models import Upload
from chalicelib.store.tx import TxConflict

PACKAGES_PREFIX = "packages/"  # extracted files: only ever served through /play/<token>/
UPLOAD_SECONDS = 3600
_COPY_THREADS = 8


def upload_json(u: Upload) -> dict[str, Any]:
    return {"id": u.id, "courseId": u.course_id, "status": u.status,
            "problem": dict(u.problem.attribute_values) if u.problem else None,
            "versionNumber": None if u.version_number is None else int(u.version_number),
            "createdAt": u.created_at, "updatedAt": u.updated_at}


def _object_key(owner: str, course_id: str, upload_id: str) -> str:
    return f"{settings().uploads_prefix}{owner}/{course_id}/{upload_id}.zip"


def create_upload(owner: str, course_id: str, actor: str, body: Any) -> dict[str, Any]:
    """An upload slot: a presigned POST the client sends the zip to (size-capped by S3 itself)."""
    courses.load_course(owner, course_id)
    now = utcnow_iso()
    upload_id = new_id("up")
    key = _object_key(owner, course_id, upload_id)
    upload = Upload(PK=keys.upload_pk(owner, upload_id), SK=keys.UPLOAD_SK, id=upload_id, owner=owner,
                    course_id=course_id, object_key=key, status="pending", created_by=actor, created_at=now,
                    updated_at=now)
    upload.save()
    post = aws.s3().generate_presigned_post(
        Bucket=settings().bucket_name, Key=key, Fields={"Content-Type": "application/zip"},
        Conditions=[["content-length-range", 1, MAX_PACKAGE_BYTES], {"Content-Type": "application/zip"}],
        ExpiresIn=UPLOAD_SECONDS)
    return {**upload_json(upload), "upload": {"url": post["url"], "fields": post["fields"], "method": "POST",
                                               "maxBytes": MAX_PACKAGE_BYTES}}


def load_upload(owner: str, upload_id: str) -> Upload:
    try:
        return Upload.get(keys.upload_pk(owner, upload_id), keys.UPLOAD_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such upload.") from None


def get_upload(owner: str, course_id: str, upload_id: str) -> dict[str, Any]:
    upload = load_upload(owner, upload_id)
    if upload.course_id != course_id:
        raise NotFound("No such upload.")
    return upload_json(upload)


# -- the S3 event side ----------------------------------------------------------------------------------
def parse_key(object_key: str) -> tuple[str, str, str] | None:
    """(owner, course id, upload id) of an upload object key, or None for anything else."""
    prefix = settings().uploads_prefix
    if not object_key.startswith(prefix) or not object_key.endswith(".zip"):
        return None
    parts = object_key[len(prefix):-len(".zip")].split("/")
    if len(parts) != 3 or not all(keys.is_safe(p) for p in parts):
        return None
    return parts[0], parts[1], parts[2]


def handle_s3_event(event: dict[str, Any]) -> int:
    """Ingest every upload an S3 notification names (an SQS message body); returns how many ran."""
    done = 0
    for record in event.get("Records", []):  # S3's s3:TestEvent message has none
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name", settings().bucket_name)
        parsed = parse_key(unquote_plus(s3.get("object", {}).get("key", "")))
        if bucket != settings().bucket_name or parsed is None \
                or not record.get("eventName", "ObjectCreated").startswith("ObjectCreated"):
            continue
        try:
            ingest(*parsed)
        except NotFound:  # an object no upload slot asked for: nothing to retry
            observability.logger().warning("upload without a slot", extra={"key": s3["object"]["key"]})
            continue
        done += 1
    return done


def _claim(upload: Upload) -> bool:
    """pending -> ingesting, once: a redelivered S3 event finds it claimed (or done) and stops."""
    try:
        upload.update(actions=[Upload.status.set("ingesting"), Upload.updated_at.set(utcnow_iso())],
                      condition=Upload.status == "pending")
    except UpdateError as exc:  # a failed condition is the expected "already claimed"
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def ingest(owner: str, course_id: str, upload_id: str) -> str:
    """Ingest one upload; returns its final status."""
    from chalicelib.content import packages

    upload = load_upload(owner, upload_id)
    if upload.course_id != course_id or not _claim(upload):
        return upload.status
    prefix = f"{PACKAGES_PREFIX}{owner}/{course_id}/{upload_id}/"
    written: list[str] = []
    try:
        with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
            aws.s3().download_fileobj(settings().bucket_name, upload.object_key, spool)
            spool.seek(0)
            source = cast(BinaryIO, spool)
            info = packages.inspect(source)
            spool.seek(0)
            _copy(packages.iter_files(source, info), prefix, written, packages.content_type)
        number = _add_version(upload, info, prefix)
    except OnrampError as err:
        _delete(written)
        _finish(upload, "rejected", problem={"type": err.code, "detail": err.detail,
                                             "reason": getattr(err, "reason", err.code), "errors": err.errors})
        observability.count("PackageRejected")
        return "rejected"
    except Exception:
        _delete(written)
        upload.update(actions=[Upload.status.set("pending")])  # the retry (SQS) starts over
        raise
    _finish(upload, "ingested", version=number)
    observability.count("PackageIngested")
    return "ingested"


def _copy(files: Any, prefix: str, written: list[str], content_type: Any) -> None:
    s3, bucket = aws.s3(), settings().bucket_name

    def put(item: tuple[str, bytes]) -> None:
        path, data = item
        s3.put_object(Bucket=bucket, Key=prefix + path, Body=data, ContentType=content_type(path))

    with ThreadPoolExecutor(max_workers=_COPY_THREADS) as pool:
        batch: list[tuple[str, bytes]] = []
        for item in files:  # the iterator enforces the size caps as it decompresses
            batch.append(item)
            written.append(prefix + item[0])
            if len(batch) >= _COPY_THREADS * 4:
                list(pool.map(put, batch))
                batch = []
        list(pool.map(put, batch))


def _delete(object_keys: list[str]) -> None:
    s3, bucket = aws.s3(), settings().bucket_name
    for start in range(0, len(object_keys), 1000):
        chunk = object_keys[start:start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})


def _add_version(upload: Upload, info: Any, prefix: str) -> int:
    for _ in range(3):  # another upload of the same course may take the number first
        course = courses.load_course(upload.owner, upload.course_id)
        tx, number = courses.add_version(course, info, prefix, upload.id, upload.created_by)
        tx.put(courses.event(upload.owner, "CourseVersionCreated",
                             {"courseId": course.id, "owner": course.owner, "version": number,
                              "format": info.format, "uploadId": upload.id}, upload.created_by, ""))
        try:
            tx.commit()
            return number
        except TxConflict:
            continue
    raise RuntimeError("could not number the new version")


def _finish(upload: Upload, status: str, *, version: int | None = None,
            problem: dict[str, Any] | None = None) -> None:
    actions: list[Any] = [Upload.status.set(status), Upload.updated_at.set(utcnow_iso())]
    if version is not None:
        actions.append(Upload.version_number.set(version))
    if problem is not None:
        actions.append(Upload.problem.set(problem))
    upload.update(actions=actions)
