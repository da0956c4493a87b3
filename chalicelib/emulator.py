"""The local AWS emulator: moto's server, with DynamoDB transactions that cost what they touch.

`python -m chalicelib.emulator -H HOST -p PORT` runs `moto.server` after `install()`; the unit tests call
`install()` before `mock_aws` (tests/unit/conftest.py). Development tooling only: moto is a dev
dependency, imported here and nowhere in the deployed code paths.

Why: moto's `transact_write_items` deep-copies every table the transaction names before writing, to roll
back on failure. The cost is the table's size on every transaction, and moto keeps every copied item
for its dashboard (`BaseModel.instances_tracked`), so a long run grows by gigabytes.

`install()` replaces it with a two-phase version built from moto's own functions:

1. check: for each operation, in order, what moto checks (one operation per entry, supported operation,
   one operation per item, the key, the condition with `ReturnValuesOnConditionCheckFailure`), then a dry
   run of the write itself: moto's own `put_item` / `update_item` / `delete_item` against a one-item
   shadow of the table (a shallow copy holding a copy of the one item the operation touches, no stream).
   Whatever moto would raise while writing (validation, item size, update-expression errors) is raised
   here, with nothing written. A validation error ends the request as in moto; any other failure is a
   cancellation reason for its operation, and `TransactionCanceledException` carries one reason per
   operation, as moto's.
2. apply: the same calls against the real backend, in order. They cannot fail where the dry run passed:
   each operation reads and writes only its own item (no two operations share one), with the same
   arguments on the same item. Stream records are therefore those moto writes for the same calls.

`untrack_dynamodb_models()` (server only) stops moto from keeping every DynamoDB item, stream record and
table it ever built in `instances_tracked` (for its `/moto-api` dashboard, which we do not use): without it
the server's memory grows with every write, even replaced or deleted items.
"""

from __future__ import annotations

import copy
import functools
import sys
import threading
from collections import defaultdict
from typing import Any

_INSTALLED = "_onramp_two_phase"


def _backend_type() -> Any:
    from moto.dynamodb.models import DynamoDBBackend

    return DynamoDBBackend


class _OneItemBackend:
    """moto's DynamoDB write functions bound to a shadow of one table: a shallow copy of the real table
    whose items are a deep copy of the one item an operation touches, and that has no stream."""

    def __init__(self, table: Any, current: Any) -> None:
        backend = _backend_type()
        self.put_item = backend.put_item.__get__(self)
        self.update_item = backend.update_item.__get__(self)
        self.delete_item = backend.delete_item.__get__(self)
        self.get_keys_value = backend.get_keys_value.__get__(self)
        shadow = object.__new__(type(table))  # not BaseModel.__new__: moto would keep it
        shadow.__dict__.update(table.__dict__)
        shadow.items = defaultdict(dict)
        shadow.stream_shard = None
        if current is not None:
            item = copy.deepcopy(current)
            if table.has_range_key:
                shadow.items[item.hash_key][item.range_key] = item
            else:
                shadow.items[item.hash_key] = item
        self._table = shadow

    def get_table(self, _name: str) -> Any:
        return self._table


def _write(backend: Any, op_type: str, table_name: str, key: dict[str, Any], op: dict[str, Any]) -> None:
    """The write of one operation, as moto's `transact_write_items` makes it."""
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    condition = op.get("ConditionExpression")
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], condition_expression=condition,
                         expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, condition_expression=condition,
                            expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"],
                            condition_expression=condition, expression_attribute_names=names,
                            expression_attribute_values=values)


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    attrs, table = op["Item"], backend.get_table(op["TableName"])
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check(backend: Any, op_type: str, op: dict[str, Any], targets: set[tuple[str, str]]) -> dict[str, Any] | None:
    """Phase 1 for one operation, as moto checks it; returns the write to make (None: a ConditionCheck).
    Raises what moto raises for it; a failed condition carries the item when ALL_OLD is asked for."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed, MultipleTransactionsException

    if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
        raise ValueError("Unsupported transaction operation")
    table_name = op["TableName"]
    key = _key_of(backend, op_type, op)
    target = (str(table_name), str(dict(sorted(key.items()))))
    if target in targets:
        raise MultipleTransactionsException()
    targets.add(target)
    current = backend.get_item(table_name, key)
    condition = op.get("ConditionExpression")
    if condition is not None:
        condition_op = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
        if not condition_op.expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            failure = ConditionalCheckFailed(item=old)
            failure.old_item = old  # type: ignore[attr-defined]  # the reason's Item
            raise failure
    if op_type == "ConditionCheck":
        return None
    _write(_OneItemBackend(backend.get_table(table_name), current), op_type, table_name, key, op)  # dry run
    return key


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """`DynamoDBBackend.transact_write_items`, in two phases (see the module docstring)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[Any, Any, Any]] = []  # (Code, Message, Item) per operation
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for entry in transact_items:
        if len(list(entry.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(entry.items()))
            key = _check(self, op_type, op, targets)
            if key is not None:
                writes.append((op_type, key, op))
            errors.append((None, None, None))
        except MockValidationException:
            raise  # nothing was written (MultipleTransactionsException is one)
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), getattr(exc, "old_item", None)))
        except Exception as exc:  # noqa: BLE001 - moto's own rule: any other failure is the item's reason
            errors.append((type(exc).__name__, str(exc), None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for op_type, key, op in writes:
        _write(self, op_type, op["TableName"], key, op)


_WRITES = threading.RLock()


def _serialised(fn: Any) -> Any:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return fn(*args, **kwargs)

    return run


def install() -> None:
    """Replace moto's `DynamoDBBackend.transact_write_items` (idempotent). The server is threaded: every
    write (a transaction's check and apply phases, and single-item writes) holds one lock, so a condition
    checked in phase 1 still holds in phase 2, as DynamoDB's isolation promises."""
    backend = _backend_type()
    if getattr(backend.transact_write_items, _INSTALLED, False):
        return
    setattr(transact_write_items, _INSTALLED, True)
    backend.moto_transact_write_items = backend.transact_write_items  # moto's, for the tests to compare
    for name in ("put_item", "update_item", "delete_item"):
        setattr(backend, name, _serialised(getattr(backend, name)))
    backend.transact_write_items = _serialised(transact_write_items)


class _Untracked(list[Any]):
    def append(self, _item: Any) -> None:
        return None


def untrack_dynamodb_models() -> None:
    """moto keeps every model instance it builds (`instances_tracked`, for its dashboard): not those of
    DynamoDB and its streams (each stream read builds a shard iterator)."""
    import moto.dynamodb.models  # noqa: F401 - defines the classes
    import moto.dynamodb.models.dynamo_type  # noqa: F401
    import moto.dynamodb.models.table  # noqa: F401
    import moto.dynamodbstreams.models  # noqa: F401
    from moto.core.model_instances import model_data

    for service in ("dynamodb", "dynamodbstreams"):
        for cls in model_data.get(service, {}).values():
            cls.instances_tracked = _Untracked()  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    install()
    untrack_dynamodb_models()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
