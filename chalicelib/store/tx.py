"""Transactions with labelled operations, so a cancelled transaction says which condition failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import Item


class TxConflict(Exception):
    """One or more labelled conditions failed; `labels` names them in operation order."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(", ".join(labels))
        self.labels = labels


# pynamodb sends a transaction's operations grouped in this order, whatever order they were added in;
# cancellation reasons are positional in the sent order, so labels are kept per group.
_SEND_ORDER = ("check", "delete", "put", "update")


class Tx:
    def __init__(self, client_request_token: str | None = None) -> None:
        connection = Item._get_connection().connection
        self._tx = TransactWrite(connection=connection, client_request_token=client_request_token)
        self._groups: dict[str, list[str]] = {kind: [] for kind in _SEND_ORDER}

    def put(self, item: Item, condition: Any = None, label: str = "") -> Tx:
        self._tx.save(item, condition=condition)
        self._groups["put"].append(label)
        return self

    def update(self, item: Item, actions: list[Any], condition: Any = None, label: str = "") -> Tx:
        self._tx.update(item, actions=actions, condition=condition, add_version_condition=False)
        self._groups["update"].append(label)
        return self

    def delete(self, item: Item, condition: Any = None, label: str = "") -> Tx:
        self._tx.delete(item, condition=condition)
        self._groups["delete"].append(label)
        return self

    def check(self, model: type[Item], pk: str, sk: str, condition: Any, label: str = "") -> Tx:
        self._tx.condition_check(model, pk, sk, condition=condition)
        self._groups["check"].append(label)
        return self

    def commit(self) -> None:
        try:
            self._tx._commit()
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            labels = [label for kind in _SEND_ORDER for label in self._groups[kind]]
            failed = [label for label, reason in zip(labels, reasons, strict=False)
                      if reason is not None and reason.code == "ConditionalCheckFailed"]
            if failed:
                raise TxConflict(failed) from exc
            raise


def replace_versioned(item: Any, current: Any, event: Callable[[int], Item], what: str) -> None:
    """An operator setting's one item replaced whole: `item` gets the version after `current`'s (1 when there is
    none) and is written conditional on the version read, with the event `event(version)` in the same transaction;
    a concurrent change is a 409 (`what` names the setting), so two operators never interleave."""
    from chalicelib.errors import Conflict

    model = type(item)
    item.version = int(current.version) + 1 if current is not None else 1
    condition = (model.version == current.version) if current is not None else Item.PK.does_not_exist()
    try:
        Tx().put(item, condition, "setting").put(event(int(item.version))).commit()
    except TxConflict:
        raise Conflict(f"The {what} changed while this request ran; retry it.") from None
