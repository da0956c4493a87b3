"""chalicelib/emulator.py: moto's TransactWriteItems in two phases (check, then write), no table copy.

Each scenario runs against moto's own implementation and ours, on the same fresh table: the error
(code, message, CancellationReasons), the table's items and the stream records must be the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

from chalicelib import emulator

TABLE = "emulator-test"


@pytest.fixture()
def ddb() -> Iterator[Any]:
    emulator.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                  {"AttributeName": "SK", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def _backend() -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def key(pk: str, sk: str = "a") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def item(pk: str, sk: str = "a", **attrs: Any) -> dict[str, Any]:
    return {**key(pk, sk), **{k: ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in attrs.items()}}


def seed(client: Any) -> None:
    for pk, n in (("a", 1), ("b", 2), ("c", 3)):
        client.put_item(TableName=TABLE, Item=item(pk, n=n, s="x"))


def put(it: dict[str, Any], cond: str | None = None, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": TABLE, "Item": it, **extra}
    if cond:
        op["ConditionExpression"] = cond
    return {"Put": op}


def update(k: dict[str, Any], expr: str, values: dict[str, Any] | None = None, cond: str | None = None,
           **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": TABLE, "Key": k, "UpdateExpression": expr, **extra}
    if values:
        op["ExpressionAttributeValues"] = values
    if cond:
        op["ConditionExpression"] = cond
    return {"Update": op}


def delete(k: dict[str, Any], cond: str | None = None, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": TABLE, "Key": k, **extra}
    if cond:
        op["ConditionExpression"] = cond
    return {"Delete": op}


def check(k: dict[str, Any], cond: str, **extra: Any) -> dict[str, Any]:
    return {"ConditionCheck": {"TableName": TABLE, "Key": k, "ConditionExpression": cond, **extra}}


ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
ONE = {":one": {"N": "1"}}

SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "all succeed": [put(item("new", n=9), "attribute_not_exists(PK)"), update(key("a"), "SET n = n + :one", ONE),
                    update(key("fresh"), "SET n = :one", ONE), delete(key("b"), "attribute_exists(PK)"),
                    check(key("c"), "n = :one", ExpressionAttributeValues={":one": {"N": "3"}})],
    "condition fails in the middle": [put(item("new", n=9)), put(item("a", n=7), "attribute_not_exists(PK)", **ALL_OLD),
                                      delete(key("b")), update(key("c"), "SET n = :one", ONE)],
    "reasons per item": [check(key("a"), "n = :one", ExpressionAttributeValues=ONE),
                         check(key("b"), "n = :one", ExpressionAttributeValues=ONE, **ALL_OLD),
                         delete(key("c"), "attribute_not_exists(PK)", **ALL_OLD), put(item("z"))],
    "condition on a missing item, ALL_OLD": [put(item("new")), delete(key("ghost"), "attribute_exists(PK)", **ALL_OLD)],
    "same item twice": [put(item("new")), update(key("a"), "SET n = :one", ONE), delete(key("a"))],
    "update expression type error": [put(item("new")), update(key("a"), "SET s = s + :one", ONE)],
    "update expression syntax error": [put(item("new")), update(key("a"), "SET = oops", ONE)],
    "put of a wrong key type": [put(item("new")), put({"PK": {"N": "1"}, "SK": {"S": "a"}})],
    "item too large": [put(item("new")), put(item("big", blob="x" * 410_000))],
    "unknown table": [put(item("new")), {"Put": {"TableName": "nope", "Item": item("x")}}],
    "condition fails then a validation error": [
        check(key("a"), "n = :one", ExpressionAttributeValues={":one": {"N": "5"}}),
        put(item("new")), update(key("b"), "SET s = s + :one", ONE)],
}


def _records(client: Any) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out = []
    for rec in streams.get_records(ShardIterator=it)["Records"]:
        data = dict(rec["dynamodb"])
        data.pop("ApproximateCreationDateTime", None)
        data.pop("SizeBytes", None)  # moto counts the timestamp's digits
        out.append({"eventName": rec["eventName"], **data})
    return out


def _outcome(client: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    seed(client)
    before = len(_records(client))
    error: dict[str, Any] | None = None
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        error = {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"],
                 "reasons": exc.response.get("CancellationReasons")}
    rows = sorted(client.scan(TableName=TABLE)["Items"], key=lambda r: (r["PK"]["S"], r["SK"]["S"]))
    return {"error": error, "items": rows, "records": _records(client)[before:]}


def _run_with(impl: Callable[..., None], items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
              client: Any) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(DynamoDBBackend, "transact_write_items", impl)
        return _outcome(client, items)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_outcome_as_moto(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    items = SCENARIOS[name]
    results = []
    for impl in (DynamoDBBackend.moto_transact_write_items, emulator.transact_write_items):
        emulator.install()
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                      {"AttributeName": "SK", "AttributeType": "S"}],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
            results.append(_run_with(impl, items, monkeypatch, client))
    moto_result, ours = results
    assert ours == moto_result


def test_installed_for_the_unit_tests() -> None:
    assert DynamoDBBackend.transact_write_items.__wrapped__ is emulator.transact_write_items


def test_concurrent_conditional_transactions_have_one_winner(ddb: Any) -> None:
    """The server is threaded: without one lock over check and apply, two transactions could both pass the
    condition before either writes."""
    from concurrent.futures import ThreadPoolExecutor

    def claim(n: int) -> bool:
        try:
            ddb.transact_write_items(TransactItems=[{"Put": {
                "TableName": TABLE, "Item": {"PK": {"S": "race"}, "SK": {"S": "claim"}, "n": {"N": str(n)}},
                "ConditionExpression": "attribute_not_exists(PK)"}}])
            return True
        except ddb.exceptions.TransactionCanceledException:
            return False

    with ThreadPoolExecutor(16) as pool:
        won = list(pool.map(claim, range(64)))
    assert won.count(True) == 1


def test_a_failed_condition_writes_nothing(ddb: Any) -> None:
    result = _outcome(ddb, SCENARIOS["reasons per item"])
    assert result["error"]["code"] == "TransactionCanceledException"
    reasons = result["error"]["reasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "ConditionalCheckFailed", "None"]
    assert "Item" not in reasons[0] and reasons[1]["Item"]["n"] == {"N": "2"} and reasons[2]["Item"]["PK"] == {"S": "c"}
    assert [r["PK"]["S"] for r in result["items"]] == ["a", "b", "c"] and result["records"] == []


def test_success_writes_every_operation(ddb: Any) -> None:
    result = _outcome(ddb, SCENARIOS["all succeed"])
    assert result["error"] is None
    rows = {r["PK"]["S"]: r for r in result["items"]}
    assert sorted(rows) == ["a", "c", "fresh", "new"] and rows["a"]["n"] == {"N": "2"}
    # moto records an Update that creates its item as two INSERTs (the key, then the update), as before
    assert [r["eventName"] for r in result["records"]] == ["INSERT", "MODIFY", "INSERT", "INSERT", "REMOVE"]
    assert result["records"][1]["OldImage"]["n"] == {"N": "1"} and result["records"][1]["NewImage"]["n"] == {"N": "2"}


def _timed_transaction(size: int) -> float:
    backend = _backend()
    table = backend.get_table(TABLE)
    for i in range(len(table), size):
        table.put_item(item(f"fill-{i:05}", payload="p" * 200))
    ops = [put(item(f"t-{size}-{j}", n=j), "attribute_not_exists(PK)") for j in range(25)]
    best = float("inf")
    for round_ in range(5):
        for op in ops:
            op["Put"]["Item"]["SK"] = {"S": f"r{round_}"}
        started = time.perf_counter()
        backend.transact_write_items(ops)
        best = min(best, time.perf_counter() - started)
    return best


def test_cost_does_not_grow_with_the_table(ddb: Any) -> None:
    small = _timed_transaction(10)
    large = _timed_transaction(5_000)
    assert large < small * 3 + 0.002, (small, large)
