"""pynamodb models: every entity shares the one table through the `type` discriminator."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings


class GSI1(GlobalSecondaryIndex["Item"]):
    """Collections inside a tenant: its users, its clients, a parent's child tenants."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex["Item"]):
    """Second views: the operator's tenant directory, a manager's reports."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class Item(Model):
    class Meta:
        table_name = settings().table_name
        region = settings().region

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    ttl = NumberAttribute(null=True)
    gsi1 = GSI1()
    gsi2 = GSI2()


class Tenant(Item, discriminator="Tenant"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    template = UnicodeAttribute()
    kind = UnicodeAttribute()  # customer | partner
    status = UnicodeAttribute()  # active | suspended | retired
    parent_id = UnicodeAttribute(null=True)
    sandbox_of = UnicodeAttribute(null=True)
    sandbox_id = UnicodeAttribute(null=True)
    region = UnicodeAttribute()
    branding = MapAttribute[str, Any]()
    settings = MapAttribute[str, Any]()
    starter_catalog = ListAttribute[str](default=list)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class SlugClaim(Item, discriminator="SlugClaim"):
    tenant_id = UnicodeAttribute()


class User(Item, discriminator="User"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute()
    roles = ListAttribute[str]()
    status = UnicodeAttribute()  # active | deactivated
    sales_role = UnicodeAttribute(null=True)
    region = UnicodeAttribute(null=True)
    department = UnicodeAttribute(null=True)
    manager_id = UnicodeAttribute(null=True)
    hire_date = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    failed_logins = NumberAttribute(default=0)
    locked_until = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)


class EmailClaim(Item, discriminator="EmailClaim"):
    user_id = UnicodeAttribute()


class ApiClient(Item, discriminator="ApiClient"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute[str]()
    secret_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # active | revoked
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class Event(Item, discriminator="Event"):
    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute(null=True)
    event_type = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True)
    detail = MapAttribute[str, Any]()


def plain(value: Any) -> Any:
    """A MapAttribute/ListAttribute value as plain JSON-able Python."""
    if isinstance(value, MapAttribute):
        return {k: plain(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class LrsCredential(Item, discriminator="LrsCredential"):
    key = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute[str]()  # xAPI scopes as granted
    secret_hash = UnicodeAttribute()
    status = UnicodeAttribute()  # active | revoked
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class StatementRecord(Item, discriminator="Statement"):
    """A stored statement (`doc` is its JSON as the LRS returns it) or one of its index copies."""

    statement_id = UnicodeAttribute()
    doc = UnicodeAttribute()
    digest = UnicodeAttribute()  # of the statement as sent, less what the LRS sets: the idempotency check
    stored = UnicodeAttribute()
    verb = UnicodeAttribute()
    voids = UnicodeAttribute(null=True)  # the target of a voiding statement
    voided = BooleanAttribute(null=True)
    authority = UnicodeAttribute(null=True)  # the credential or token subject that stored it
    agents = UnicodeSetAttribute(null=True)  # IFI keys of actor and object (index copies: combined filters)
    related_agents = UnicodeSetAttribute(null=True)
    activity = UnicodeAttribute(null=True)
    related_activities = UnicodeSetAttribute(null=True)
    registration = UnicodeAttribute(null=True)


class VoidMarker(Item, discriminator="VoidMarker"):
    """In a statement's partition: the statement `voiding_id` voids it (written even if it arrives first)."""

    voiding_id = UnicodeAttribute()


class XapiDocument(Item, discriminator="XapiDocument"):
    """A state, activity profile or agent profile document (content up to ~350 KB in the item)."""

    doc_id = UnicodeAttribute()
    registration = UnicodeAttribute(null=True)
    content = BinaryAttribute(legacy_encoding=False)
    content_type = UnicodeAttribute()
    etag = UnicodeAttribute()
    updated = UnicodeAttribute()
