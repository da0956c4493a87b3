"""Bulk user imports, the API side: an upload slot (presigned POST of a CSV), status and progress, listing.

The processing (S3 event -> chunks through the uploads queue) is `users.import_job`; docs/provisioning.md.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pynamodb.models import Model

from chalicelib import aws
from chalicelib.auth.principal import TenantContext
from chalicelib.clock import new_id, utcnow_iso
from chalicelib.config import settings
from chalicelib.errors import Forbidden, NotFound
from chalicelib.store import keys, pagination
from chalicelib.store.models import UserImport
from chalicelib.users import MAX_IMPORT_BYTES

UPLOAD_SECONDS = 3600
REPORT_SECONDS = 900
CONTENT_TYPE = "text/csv"


def _admin(ctx: TenantContext) -> str:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins import users.")
    return ctx.tenant_id


def _report_url(item: UserImport) -> str | None:
    if item.status != "completed" or not item.report_key:
        return None
    url: str = aws.s3().generate_presigned_url(
        "get_object", ExpiresIn=REPORT_SECONDS, Params={
            "Bucket": settings().bucket_name, "Key": item.report_key, "ResponseContentType": CONTENT_TYPE,
            "ResponseContentDisposition": f'attachment; filename="{item.id}-errors.csv"'})
    return url


def to_json(item: UserImport) -> dict[str, Any]:
    return {
        "id": item.id, "tenantId": item.tenant_id, "status": item.status, "fileName": item.file_name,
        "sha256": item.sha256, "sizeBytes": None if item.size_bytes is None else int(item.size_bytes),
        "rows": None if item.rows is None else int(item.rows),
        **{name: int(getattr(item, name)) for name in ("processed", "created", "updated", "unchanged", "failed")},
        "chunks": int(item.chunks), "ignoredColumns": list(item.ignored_columns or []),
        "problem": item.problem, "errorReport": _report_url(item),
        "createdBy": item.created_by, "createdAt": item.created_at, "updatedAt": item.updated_at,
        "completedAt": item.completed_at,
    }


def create_import(ctx: TenantContext, body: Any) -> dict[str, Any]:
    """An import waiting for its CSV: the presigned POST the client sends it to (size-capped by S3)."""
    tenant_id = _admin(ctx)
    now, import_id = utcnow_iso(), new_id("im")
    key = keys.user_import_object_key(tenant_id, import_id)
    item = UserImport(PK=keys.user_import_pk(tenant_id, import_id), SK=keys.USER_IMPORT_SK,
                      GSI1PK=keys.user_imports_gsi1pk(tenant_id), GSI1SK=keys.user_imports_gsi1sk(now, import_id),
                      id=import_id, tenant_id=tenant_id, status="awaiting_upload", file_name=body.fileName,
                      object_key=key, created_by=ctx.principal.subject, created_at=now, updated_at=now)
    item.save(UserImport.PK.does_not_exist())
    post = aws.s3().generate_presigned_post(
        Bucket=settings().bucket_name, Key=key, Fields={"Content-Type": CONTENT_TYPE},
        Conditions=[["content-length-range", 1, MAX_IMPORT_BYTES], {"Content-Type": CONTENT_TYPE}],
        ExpiresIn=UPLOAD_SECONDS)
    return {**to_json(item), "upload": {"url": post["url"], "fields": post["fields"], "method": "POST",
                                        "maxBytes": MAX_IMPORT_BYTES}}


def load_import(tenant_id: str, import_id: str) -> UserImport:
    try:
        return UserImport.get(keys.user_import_pk(tenant_id, import_id), keys.USER_IMPORT_SK)
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such import.") from None


def get_import(ctx: TenantContext, import_id: str) -> dict[str, Any]:
    return to_json(load_import(_admin(ctx), import_id))


def list_imports(ctx: TenantContext, query: Any) -> dict[str, Any]:
    tenant_id = _admin(ctx)
    listing = partial(UserImport.gsi1.query, keys.user_imports_gsi1pk(tenant_id), scan_index_forward=False)
    return pagination.page(listing, f"user-imports|{tenant_id}", query, to_json, UserImport)
