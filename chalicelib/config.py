"""Settings read once from the environment; the one place that knows variable names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    bucket_name: str
    secret_name: str
    issuer: str
    audience: str
    token_ttl_seconds: int
    aws_endpoint: str | None
    operator_client_id: str | None
    operator_client_secret: str | None
    max_body_bytes: int
    tenant_cache_seconds: float
    sender_email: str
    uploads_queue_name: str
    uploads_prefix: str
    public_url: str | None
    forwarding_queue_name: str

    @property
    def is_local(self) -> bool:
        return self.aws_endpoint is not None

    @property
    def is_deployed(self) -> bool:
        """A stage of .chalice/config.json on AWS (not `onramp dev`, not the tests)."""
        return not self.is_local and self.stage not in ("local", "test")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@lru_cache(maxsize=1)
def settings() -> Settings:
    stage = os.environ.get("ONRAMP_STAGE", "local")
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        table_name=os.environ.get("ONRAMP_TABLE", f"onramp-{stage}"),
        bucket_name=os.environ.get("ONRAMP_BUCKET", f"onramp-content-{stage}"),
        secret_name=os.environ.get("ONRAMP_SECRET", f"onramp/{stage}/platform"),
        issuer=os.environ.get("ONRAMP_ISSUER", "https://onramp.local"),
        audience=os.environ.get("ONRAMP_AUDIENCE", "onramp-api"),
        token_ttl_seconds=_int("ONRAMP_TOKEN_TTL", 3600),
        aws_endpoint=os.environ.get("AWS_ENDPOINT_URL") or None,
        operator_client_id=os.environ.get("ONRAMP_OPERATOR_CLIENT_ID") or None,
        operator_client_secret=os.environ.get("ONRAMP_OPERATOR_CLIENT_SECRET") or None,
        max_body_bytes=_int("ONRAMP_MAX_BODY_BYTES", 1_048_576),
        tenant_cache_seconds=float(os.environ.get("ONRAMP_TENANT_CACHE_SECONDS", "30")),
        sender_email=os.environ.get("ONRAMP_SENDER_EMAIL", "no-reply@onramp.local"),
        # S3 ObjectCreated events under uploads_prefix go to this queue (deployed: infra/'s UploadsQueue)
        uploads_queue_name=os.environ.get("ONRAMP_UPLOADS_QUEUE", f"onramp-package-uploads-{stage}"),
        uploads_prefix="uploads/",
        # the API's public base URL (deployed: the CloudFront domain); else taken from the request's Host
        public_url=(os.environ.get("ONRAMP_PUBLIC_URL") or "").rstrip("/") or None,
        # deliveries of statements to tenants' external LRSs (deployed: infra/'s XapiForwardingQueue)
        forwarding_queue_name=os.environ.get("ONRAMP_XAPI_FORWARDING_QUEUE", f"onramp-xapi-forwarding-{stage}"),
    )


def reset() -> None:
    """Forget cached settings (tests change the environment)."""
    settings.cache_clear()
