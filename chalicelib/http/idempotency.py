"""`Idempotency-Key` on POSTs: Powertools idempotency on the one table, one partition per tenant."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.errors import Conflict, IdempotencyKeyReused, ValidationFailed, field_error
from chalicelib.store import keys

HEADER = "idempotency-key"
_EXPIRES_AFTER = 24 * 3600


def _mark_replayed(response: Any, _record: Any) -> Any:
    return {**response, "replayed": True}


def run_once(tenant_id: str | None, scope_key: str, idempotency_key: str, body: bytes,
             produce: Callable[[], dict[str, Any]], lambda_context: Any = None) -> dict[str, Any]:
    """Run `produce` once per (caller, route, key); a retry gets the first result back.

    A retry with the same key but another body is a 422; one still in flight is a 409.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if not 1 <= len(idempotency_key) <= 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters.",
                               errors=[field_error("Idempotency-Key", "length 1..255", "header:Idempotency-Key")])
    persistence = DynamoDBPersistenceLayer(
        table_name=settings().table_name, key_attr="PK", sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk(tenant_id), expiry_attr="ttl", boto3_client=aws.dynamodb(),
    )
    config = IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="fingerprint",
                               expires_after_seconds=_EXPIRES_AFTER,
                               response_hook=_mark_replayed)  # type: ignore[arg-type]
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence,  # type: ignore[untyped-decorator]
                         config=config)
    def _once(request: dict[str, str]) -> dict[str, Any]:
        return produce()

    request = {"key": f"{scope_key}\n{idempotency_key}", "fingerprint": hashlib.sha256(body).hexdigest()}
    try:
        result: dict[str, Any] = _once(request=request)
        return result
    except IdempotencyValidationError:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                       headers={"Retry-After": "1"}) from None
