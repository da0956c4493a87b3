"""Outbox events reach subscribers through the table's stream (records read from moto's stream)."""

from __future__ import annotations

import pytest

from chalicelib.events import consumer
from tests.unit.course_helpers import stream_records as _stream_records


@pytest.fixture()
def received(monkeypatch):
    got: list[consumer.EventEnvelope] = []
    monkeypatch.setitem(consumer._HANDLERS, "UserCreated", [got.append])
    monkeypatch.setitem(consumer._HANDLERS, "TenantCreated", [got.append])
    return got


def test_stream_records_dispatch_to_subscribers(api, received):
    tenant = api.make_tenant()
    user = api.make_user(tenant["id"], email="rep@acme.com")
    result = api.client.lambda_.invoke("on_table_change", {"Records": _stream_records()})
    assert result.payload == {"batchItemFailures": []}
    by_type = {e.type: e for e in received}
    assert by_type["TenantCreated"].tenant_id == tenant["id"]
    assert by_type["UserCreated"].detail["user"]["id"] == user["id"]
    assert by_type["UserCreated"].actor == "client:operator-test"
    assert by_type["UserCreated"].correlation_id


def test_a_failing_handler_reports_its_record_for_retry(api, monkeypatch):
    def broken(_event: consumer.EventEnvelope) -> None:
        raise RuntimeError("downstream is down")

    monkeypatch.setitem(consumer._HANDLERS, "TenantCreated", [broken])
    api.make_tenant()
    records = _stream_records()
    failing = next(r for r in records if r["dynamodb"]["NewImage"].get("event_type", {}).get("S") == "TenantCreated")
    result = consumer.handle_records(records)
    assert result["batchItemFailures"] == [{"itemIdentifier": failing["dynamodb"]["SequenceNumber"]}]


def test_non_event_items_and_modifications_are_ignored(received):
    user_image = {"type": {"S": "User"}, "PK": {"S": "T#a#USER#b"}}
    assert consumer.handle_records([{"eventName": "INSERT", "dynamodb": {"NewImage": user_image}},
                                    {"eventName": "MODIFY", "dynamodb": {"NewImage": user_image}}]) \
        == {"batchItemFailures": []}
    assert received == []


def test_events_are_spread_over_shards(aws):
    from chalicelib.events.outbox import event_item
    from chalicelib.store import keys

    pks = {event_item("tn-a", "X", {}).PK for _ in range(400)}
    assert len(pks) == keys.EVENT_SHARDS and all(pk.startswith("T#tn-a#") for pk in pks)
