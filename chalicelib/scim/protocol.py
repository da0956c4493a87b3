"""The SCIM edge: scim2-models (imported on first use: it costs ~0.3-0.7 s), the service's description
(ServiceProviderConfig, ResourceTypes, Schemas), SCIM Error bodies, ETags and resource URLs."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from chalice import Response

from chalicelib.errors import Conflict, MalformedBody, OnrampError, PreconditionFailed, ValidationFailed

MEDIA_TYPE = "application/scim+json"
CONTENT_TYPES = (MEDIA_TYPE, "application/json")
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_RESULTS = 100  # a page's most resources (ServiceProviderConfig filter.maxResults)
_UNIQUE_FIELDS = {"email", "username", "externalId", "displayName"}


class ScimError(OnrampError):
    """An error with a SCIM `scimType` (RFC 7644 §3.12)."""

    code = "scim"

    def __init__(self, status: int, scim_type: str | None, detail: str, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(detail, headers=headers)
        self.status, self.scim_type = status, scim_type


def _scim_type(err: OnrampError) -> str | None:
    if isinstance(err, ScimError):
        return err.scim_type
    if isinstance(err, Conflict) and {e.get("field") for e in err.errors} & _UNIQUE_FIELDS:
        return "uniqueness"
    if isinstance(err, MalformedBody):
        return "invalidSyntax"
    if isinstance(err, ValidationFailed):
        return "invalidValue"
    return None


def render_error(err: OnrampError, instance: str | None = None) -> Response:
    """Any error of a SCIM route as a SCIM Error body (`status` is a string, as RFC 7644 §3.12 shows it)."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(err.status), "detail": err.detail}
    scim_type = _scim_type(err)
    if scim_type:
        body["scimType"] = scim_type
    return Response(body=body, status_code=err.status, headers={"Content-Type": MEDIA_TYPE, **err.headers})


@contextmanager
def scim_errors() -> Iterator[None]:
    """scim2-models' exceptions and validation errors become SCIM errors (400 with their scimType)."""
    from pydantic import ValidationError
    from scim2_models import Error, SCIMException

    try:
        yield
    except SCIMException as exc:
        raise ScimError(exc.status, exc.scim_type or None, str(exc)) from None
    except ValidationError as exc:
        first = Error.from_validation_errors(exc)[0]
        raise ScimError(int(first.status or 400), first.scim_type, str(first.detail)) from None


@functools.cache
def models() -> SimpleNamespace:
    """The resource models and the provider describing this service (built once per container)."""
    from typing import Annotated

    import scim2_models as sm
    from pydantic import Field

    class Manager(sm.Manager):
        # RFC 7643 §4.3 makes `$ref` optional in practice: Okta and Entra send the manager's id alone
        ref: Annotated[sm.Reference[sm.User] | None, sm.Required.false] = Field(  # type: ignore[type-arg]
            None, serialization_alias="$ref", validation_alias="$ref")

    class EnterpriseUser(sm.EnterpriseUser):
        manager: Manager | None = None

    user_model = sm.User[EnterpriseUser]
    config = sm.ServiceProviderConfig(
        patch=sm.Patch(supported=True), bulk=sm.Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=sm.Filter(supported=True, max_results=MAX_RESULTS), change_password=sm.ChangePassword(supported=False),
        sort=sm.Sort(supported=False), etag=sm.ETag(supported=True),
        authentication_schemes=[sm.AuthenticationScheme(
            type=sm.AuthenticationScheme.Type.oauthbearertoken, name="OAuth Bearer Token", primary=True,
            description="A SCIM token of the tenant (POST /v1/tenants/{tenantId}/scim-tokens)")])
    provider = sm.ScimProvider(models=[sm.User, EnterpriseUser, sm.Group], config=config,
                               resource_types=[sm.ResourceType.from_resource(user_model),
                                               sm.ResourceType.from_resource(sm.Group)])
    # members are value, $ref and type (RFC 7643 §8.7.1): a member's `display` is accepted and not kept
    group_schema = next(s for s in provider.schemas if str(s.id) == str(sm.Group.__schema__))
    members = next(a for a in group_schema.attributes or [] if a.name == "members")
    members.sub_attributes = [a for a in members.sub_attributes or [] if a.name != "display"]
    policy = sm.ScimPolicy(remove_value_as_filter=sm.ScimPolicy.RemoveValue.apply)  # Entra's member removal
    return SimpleNamespace(sm=sm, User=user_model, EnterpriseUser=EnterpriseUser, Group=sm.Group,
                           provider=provider, policy=policy, Context=sm.Context)


def etag(version: float) -> str:
    return f'W/"{int(version)}"'


def check_if_match(request: Any, version: float) -> None:
    """`If-Match` (RFC 7644 §3.14): the resource's current ETag, or `*`; otherwise 412, nothing written."""
    wanted = request.headers.get("if-match") if request is not None else None
    if not wanted:
        return
    tags = {t.strip() for t in wanted.split(",")}
    current = etag(version)
    if "*" not in tags and current not in tags and current.removeprefix("W/") not in tags:
        raise PreconditionFailed(f"The resource is at version {current}; If-Match named {wanted}.")


def base_url(request: Any, tenant_id: str) -> str:
    """The tenant's SCIM base URL, absolute when the request says where it came (meta.location, $ref)."""
    path = f"/v1/tenants/{tenant_id}/scim/v2"
    headers = getattr(request, "headers", None) or {}
    host = headers.get("host")
    if not host:
        return path
    proto = headers.get("x-forwarded-proto", "https" if "." in host and not host.startswith("127.") else "http")
    stage = ((getattr(request, "context", None) or {}).get("stage") or "")
    prefix = f"/{stage}" if stage and stage not in ("api", "$default") and "execute-api" in host else ""
    return f"{proto}://{host}{prefix}{path}"


def dump(resource: Any, context: str, search: Any = None) -> dict[str, Any]:
    """A resource or message as SCIM JSON for a response context (`attributes`/`excludedAttributes` applied)."""
    m = models()
    result: dict[str, Any] = resource.model_dump(scim_ctx=getattr(m.Context, context), response_parameters=search)
    return result


def parse(model: Any, raw: bytes, context: str) -> Any:
    """A request body validated for a SCIM context (creation, replacement, patch)."""
    import json

    if not raw.strip():
        raise ScimError(400, "invalidSyntax", "A JSON body is required.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScimError(400, "invalidSyntax", f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ScimError(400, "invalidSyntax", "The body must be a JSON object.")
    m = models()
    with scim_errors():
        return model.model_validate(data, scim_ctx=getattr(m.Context, context), scim_policy=m.policy)


def search_request(model: Any, query: Any) -> Any:
    """`filter`, `startIndex`, `count`, `attributes`, `excludedAttributes` of a GET list (RFC 7644 §3.4.2)."""
    m = models()
    params = {k: query[k] for k in ("filter", "startIndex", "count", "attributes", "excludedAttributes")
              if query and k in query}
    for name in ("startIndex", "count"):
        if name in params:
            try:
                params[name] = int(params[name])
            except ValueError:
                raise ScimError(400, "invalidValue", f"{name} must be an integer.") from None
    with scim_errors():
        search = m.sm.SearchRequest[model].model_validate(params, scim_ctx=m.Context.SEARCH_REQUEST)
    search.count = MAX_RESULTS if search.count is None else min(search.count, MAX_RESULTS)
    search.start_index = search.start_index or 1
    return search


def response_parameters(request: Any) -> Any:
    """`attributes` / `excludedAttributes` of any request that returns a resource (RFC 7644 §3.4.1), or None."""
    query = getattr(request, "query_params", None) or {}
    params = {k: query[k] for k in ("attributes", "excludedAttributes") if k in query}
    if not params:
        return None
    m = models()
    with scim_errors():
        return m.sm.ResponseParameters.model_validate(params)


def list_response(model: Any, resources: list[Any], total: int, search: Any) -> dict[str, Any]:
    m = models()
    listing = m.sm.ListResponse[model](total_results=total, start_index=search.start_index,
                                      items_per_page=len(resources), resources=resources)
    return dump(listing, "SEARCH_RESPONSE", search)


def discovery(kind: str, item_id: str | None = None) -> dict[str, Any]:
    """ServiceProviderConfig, ResourceTypes or Schemas (a ListResponse, or one of them by id)."""
    m = models()
    provider = m.provider
    if kind == "config":
        return dump(provider.config, "RESOURCE_QUERY_RESPONSE")
    items = list(provider.resource_types if kind == "resource-types" else provider.schemas)
    if item_id is not None:
        found = [i for i in items if str(i.id) == item_id]
        if not found:
            raise ScimError(404, None, f"No such {'resource type' if kind == 'resource-types' else 'schema'}.")
        return dump(found[0], "RESOURCE_QUERY_RESPONSE")
    model = m.sm.ResourceType if kind == "resource-types" else m.sm.Schema
    listing = m.sm.ListResponse[model](total_results=len(items), start_index=1, items_per_page=len(items),
                                      resources=items)
    return dump(listing, "SEARCH_RESPONSE")
