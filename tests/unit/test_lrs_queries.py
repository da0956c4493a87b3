"""GET /statements with filters, served by index partitions: results, order, `more`, and call counts."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest

from tests.unit.callcount import counting
from tests.unit.lrs_helpers import make_lrs, new_id, statement

ANA = {"mbox": "mailto:ana@example.com"}
BEN = {"mbox": "mailto:ben@example.com"}
COACH = {"mbox": "mailto:coach@example.com"}
COURSE = "http://example.com/courses/negotiation"
MODULE = "http://example.com/courses/negotiation/m1"
ROLEPLAY = "http://example.com/tools/roleplay"
COMPLETED, ATTEMPTED = "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/attempted"


class World:
    def __init__(self, api: Any) -> None:
        self.lrs = make_lrs(api)
        self.reg = new_id()
        self.ids: dict[str, str] = {}
        docs = {
            "ana-completed-module": statement(actor=ANA, verb={"id": COMPLETED}, object={"id": MODULE},
                                             context={"registration": self.reg, "instructor": COACH,
                                                      "contextActivities": {"parent": [{"id": COURSE}]}}),
            "ben-attempted-roleplay": statement(actor=BEN, verb={"id": ATTEMPTED}, object={"id": ROLEPLAY}),
            "ana-attempted-roleplay": statement(actor=ANA, verb={"id": ATTEMPTED}, object={"id": ROLEPLAY}),
            "coach-completed-course": statement(actor=COACH, verb={"id": COMPLETED}, object={"id": COURSE}),
            "ben-about-ana": statement(actor=BEN, verb={"id": ATTEMPTED},
                                       object={"objectType": "Agent", **ANA}),
        }
        for name, doc in docs.items():  # one by one: distinct stored times, in this order
            resp = self.lrs.request("POST", "/statements", doc)
            assert resp.status_code == 200, resp.body
            self.ids[name] = json.loads(resp.body)[0]

    def get(self, query: str, auth: str | None = None) -> Any:
        resp = self.lrs.request("GET", "/statements" + query, auth=auth)
        assert resp.status_code == 200, resp.body
        return resp

    def names(self, query: str, auth: str | None = None) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[s["id"]] for s in json.loads(self.get(query, auth).body)["statements"]]


@pytest.fixture()
def world(api: Any) -> World:
    return World(api)


def _agent(agent: dict[str, str]) -> str:
    return quote(json.dumps(agent))


def test_unfiltered_is_newest_first_and_ascending_reverses(world: World) -> None:
    newest_first = world.names("")
    assert newest_first == list(reversed(world.ids))
    assert world.names("?ascending=true") == list(world.ids)


def test_agent_filter_is_actor_or_object_and_related_widens_it(world: World) -> None:
    assert world.names(f"?agent={_agent(ANA)}") == ["ben-about-ana", "ana-attempted-roleplay",
                                                     "ana-completed-module"]
    assert world.names(f"?agent={_agent(COACH)}") == ["coach-completed-course"]
    assert world.names(f"?agent={_agent(COACH)}&related_agents=true") == ["coach-completed-course",
                                                                          "ana-completed-module"]


def test_verb_activity_and_registration_filters(world: World) -> None:
    assert world.names(f"?verb={quote(COMPLETED)}") == ["coach-completed-course", "ana-completed-module"]
    assert world.names(f"?activity={quote(ROLEPLAY)}") == ["ana-attempted-roleplay", "ben-attempted-roleplay"]
    assert world.names(f"?activity={quote(COURSE)}") == ["coach-completed-course"]
    assert world.names(f"?activity={quote(COURSE)}&related_activities=true") == [
        "coach-completed-course", "ana-completed-module"]
    assert world.names(f"?registration={world.reg}") == ["ana-completed-module"]


def test_filters_combine(world: World) -> None:
    assert world.names(f"?agent={_agent(ANA)}&verb={quote(ATTEMPTED)}") == ["ben-about-ana",
                                                                            "ana-attempted-roleplay"]
    assert world.names(f"?agent={_agent(ANA)}&activity={quote(ROLEPLAY)}") == ["ana-attempted-roleplay"]
    assert world.names(f"?verb={quote(COMPLETED)}&registration={world.reg}") == ["ana-completed-module"]


def test_since_is_exclusive_and_until_inclusive(world: World) -> None:
    docs = json.loads(world.get("?ascending=true").body)["statements"]
    second = docs[1]["stored"]
    assert world.names(f"?since={quote(second)}&ascending=true") == list(world.ids)[2:]
    assert world.names(f"?until={quote(second)}&ascending=true") == list(world.ids)[:2]


def test_limit_and_more_walk_every_statement_once(world: World) -> None:
    seen: list[str] = []
    resp = world.get(f"?limit=2&verb={quote(ATTEMPTED)}")
    while True:
        page = json.loads(resp.body)
        seen += [s["id"] for s in page["statements"]]
        if not page["more"]:
            break
        assert page["more"].startswith(f"/v1/tenants/{world.lrs.tenant_id}/xapi/statements?more=")
        resp = world.lrs.api.client.http.get(page["more"], headers={
            "Authorization": f"Bearer {world.lrs.admin}", "X-Experience-API-Version": "1.0.3"})
        assert resp.status_code == 200, resp.body
    assert seen == [world.ids[n] for n in ("ben-about-ana", "ana-attempted-roleplay", "ben-attempted-roleplay")]


def test_more_cursors_are_tamper_evident(world: World) -> None:
    page = json.loads(world.get("?limit=1").body)
    cursor = page["more"].split("more=")[1]
    resp = world.lrs.request("GET", f"/statements?more={cursor[:-2]}xx")
    assert resp.status_code == 400


def test_format_ids_keeps_identifiers_only(world: World) -> None:
    doc = json.loads(world.get(f"?format=ids&registration={world.reg}").body)["statements"][0]
    assert doc["actor"] == {"mbox": ANA["mbox"]} and doc["verb"] == {"id": COMPLETED}
    assert "definition" not in doc["object"]


def test_format_canonical_picks_one_language(api: Any) -> None:
    lrs = make_lrs(api)
    sid = new_id()
    lrs.request("PUT", f"/statements?statementId={sid}", statement(
        verb={"id": COMPLETED, "display": {"en-US": "completed", "fr-FR": "terminé"}}))
    resp = lrs.request("GET", f"/statements?statementId={sid}&format=canonical",
                       headers={"Accept-Language": "fr-FR"})
    assert json.loads(resp.body)["verb"]["display"] == {"fr-FR": "terminé"}


@pytest.mark.parametrize("query", ["?agent=notjson", "?agent=" + quote('{"name": "x"}'), "?verb=completed",
                                   "?registration=abc", "?limit=-1", "?ascending=yes", "?format=full",
                                   "?since=yesterday", "?color=red", "?verb=a:b&verb=a:c"])
def test_bad_query_parameters_are_400(world: World, query: str) -> None:
    assert world.lrs.request("GET", "/statements" + query).status_code == 400


def test_read_mine_sees_only_its_own_statements(world: World) -> None:
    mine = world.lrs.credential(["statements/write", "statements/read/mine"])
    resp = world.lrs.request("POST", "/statements", statement(actor=ANA), auth=mine)
    own = json.loads(resp.body)[0]
    listed = [s["id"] for s in json.loads(world.get("", auth=mine).body)["statements"]]
    assert listed == [own]
    everyone = [s["id"] for s in json.loads(world.get("").body)["statements"]]
    assert everyone[0] == own and len(everyone) == 6


def test_a_filtered_page_is_one_query_and_a_statement_one_transaction(world: World) -> None:
    from chalicelib.tenancy import cache

    cache.tenant_record(world.lrs.tenant_id)
    world.get("")  # warm the credential cache
    for query in (f"?agent={_agent(ANA)}", f"?registration={world.reg}",
                  f"?agent={_agent(ANA)}&activity={quote(ROLEPLAY)}",
                  f"?agent={_agent(ANA)}&verb={quote(ATTEMPTED)}&limit=1"):
        with counting() as calls:
            world.get(query)
        assert calls.dynamodb == Counter({"Query": 1}), (query, calls)
    for query in (f"?verb={quote(ATTEMPTED)}", f"?activity={quote(ROLEPLAY)}", ""):
        with counting() as calls:
            world.get(query)  # a sharded dimension: one Query per shard
        assert calls.dynamodb == Counter({"Query": 16}), query
    with counting() as calls:
        resp = world.lrs.request("POST", "/statements", [statement() for _ in range(10)])
    assert resp.status_code == 200
    assert calls.dynamodb == Counter({"TransactWriteItems": 1})
