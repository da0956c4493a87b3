"""In-process fixtures: moto's mock_aws, the table built from infra/, chalice.test.Client."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from moto import mock_aws

from tests.unit.factories import Api


@pytest.fixture(scope="session")
def platform_secret() -> str:
    from chalicelib.auth.keys import _generate_key

    return json.dumps({"signingKeys": [_generate_key()], "cursorKey": "ab" * 32})


@pytest.fixture(autouse=True, scope="session")
def _two_phase_transactions() -> None:
    """moto's TransactWriteItems, as `onramp dev` runs it (chalicelib/emulator.py): checks, then writes,
    instead of a deep copy of the table per transaction."""
    from chalicelib import emulator

    emulator.install()


@pytest.fixture(autouse=True, scope="session")
def _subscribers_registered() -> None:
    """The consumer imports its subscriber modules on its first batch; a test that patches a handler list
    before that would swallow their registrations, so they are registered before any test runs."""
    from chalicelib.events import consumer

    consumer.load_subscribers()


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at n=2**14 costs ~50 ms a hash and the suite logs in hundreds of people. The cost is stored
    in each hash, so a cheaper one here changes nothing else (test_auth checks the production cost)."""
    from chalicelib.auth import passwords

    monkeypatch.setattr(passwords, "_N", 2**10)


class PinnedClock:
    """The server clock (`chalicelib.clock.utcnow`) pinned at a moment and moved by the test: `now.at(moment)`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def at(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture()
def pin_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], PinnedClock]:
    """`pin_clock(start)`: pins the server clock at `start` for the test and returns it, movable."""
    from chalicelib import clock

    def pin(start: datetime) -> PinnedClock:
        pinned = PinnedClock(start)
        monkeypatch.setattr(clock, "utcnow", lambda: pinned.moment)
        return pinned

    return pin


@pytest.fixture()
def aws(platform_secret: str) -> Iterator[None]:
    from chalicelib import aws as clients
    from chalicelib.auth import keys
    from chalicelib.config import settings
    from chalicelib.lrs import credentials
    from chalicelib.store import table
    from chalicelib.tenancy import cache

    with mock_aws():  # moto intercepts every botocore client, so cached clients are reused across tests
        keys.reset()
        cache.reset()
        credentials.reset()
        table.ensure_table()
        table.ensure_bucket()
        clients.secrets().create_secret(Name=settings().secret_name, SecretString=platform_secret)
        yield
        keys.reset()
        cache.reset()


@pytest.fixture()
def client(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture()
def api(client: Any) -> Api:
    return Api(client)


@pytest.fixture()
def lrs(api: Api) -> Any:
    """A tenant with an all-scopes LRS credential (tests/unit/lrs_helpers.py)."""
    from tests.unit.lrs_helpers import make_lrs

    return make_lrs(api)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
