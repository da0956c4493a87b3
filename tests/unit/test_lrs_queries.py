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


def test_format_canonical_prefers_the_exact_language_tag(api: Any) -> None:
    """The conformance suite (XAPI-00169): a map holding `en` before `en-GB` answers `en-GB` to en-GB."""
    lrs = make_lrs(api)
    sid = new_id()
    obj = {"objectType": "Activity", "id": "http://example.com/unicode/" + new_id(),
           "definition": {"name": {"en": "Other", "en-GB": "attended", "ja-JP": "出席した"},
                          "description": {"en-US": "On this map", "en-GB": "On this map (GB)"}}}
    lrs.request("PUT", f"/statements?statementId={sid}", statement(
        object=obj, verb={"id": COMPLETED, "display": {"en-US": "completed", "en-GB": "completed (GB)"}}))
    doc = json.loads(lrs.request("GET", f"/statements?statementId={sid}&format=canonical",
                                 headers={"Accept-Language": "en-GB"}).body)
    assert doc["verb"]["display"] == {"en-GB": "completed (GB)"}
    assert doc["object"]["definition"] == {"name": {"en-GB": "attended"}, "description": {"en-GB": "On this map (GB)"}}
    fallback = json.loads(lrs.request("GET", f"/statements?statementId={sid}&format=canonical",
                                      headers={"Accept-Language": "en-AU"}).body)
    assert fallback["object"]["definition"]["name"] == {"en": "Other"}  # no exact tag: the same language


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
    bare = {"objectType": "Activity", "id": "http://example.com/courses/discovery-calls"}
    with counting() as calls:
        resp = world.lrs.request("POST", "/statements", [statement(object=bare) for _ in range(10)])
    assert resp.status_code == 200
    assert calls.dynamodb == Counter({"TransactWriteItems": 1})
    world.lrs.request("POST", "/statements", statement())  # its activity's definition is merged
    with counting() as calls:  # definitions that change nothing: the activity is read, not written
        resp = world.lrs.request("POST", "/statements", [statement() for _ in range(10)])
    assert calls.dynamodb == Counter({"TransactWriteItems": 1, "BatchGetItem": 1})


# --- statements that reference a matching statement (Communication 2.1.3, "Filter Conditions for StatementRefs")

CONFIRMED, VOIDED = "http://example.com/verbs/confirmed", "http://adlnet.gov/expapi/verbs/voided"


class Refs:
    """An LRS where statements are stored one by one under names, and queries answer names."""

    def __init__(self, api: Any) -> None:
        self.lrs = make_lrs(api)
        self.reg = new_id()
        self.ids: dict[str, str] = {}

    def post(self, name: str, doc: dict[str, Any], sid: str | None = None) -> str:
        doc = {**doc, "id": sid or self.ids.get(name) or new_id()}
        resp = self.lrs.request("POST", "/statements", doc)
        assert resp.status_code == 200, resp.body
        self.ids[name] = doc["id"]
        return str(doc["id"])

    def ana_completed(self, name: str = "target", sid: str | None = None) -> str:
        return self.post(name, statement(actor=ANA, verb={"id": COMPLETED}, object={"id": MODULE},
                                         context={"registration": self.reg}), sid)

    def ref(self, name: str, target: str, verb: str = CONFIRMED, actor: dict[str, str] = COACH) -> str:
        return self.post(name, statement(actor=actor, verb={"id": verb},
                                         object={"objectType": "StatementRef", "id": target}))

    def page(self, query: str) -> dict[str, Any]:
        resp = self.lrs.request("GET", "/statements" + query)
        assert resp.status_code == 200, resp.body
        return dict(json.loads(resp.body))

    def names(self, query: str) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id.get(s["id"], s["id"]) for s in self.page(query)["statements"]]


@pytest.fixture()
def refs(api: Any) -> Refs:
    return Refs(api)


def test_a_statement_referencing_a_stored_match_is_returned_by_the_targets_filters(refs: Refs) -> None:
    target = refs.ana_completed()
    refs.ref("confirmation", target)
    for query in (f"?agent={_agent(ANA)}", f"?verb={quote(COMPLETED)}", f"?activity={quote(MODULE)}",
                  f"?registration={refs.reg}", f"?agent={_agent(ANA)}&verb={quote(COMPLETED)}",
                  f"?activity={quote(MODULE)}&registration={refs.reg}"):
        assert refs.names(query) == ["confirmation", "target"], query
    assert refs.names(f"?agent={_agent(COACH)}") == ["confirmation"]  # its own facets still
    assert refs.names(f"?verb={quote(CONFIRMED)}") == ["confirmation"]
    # combined filters test one statement's facets: the coach's own or the target's, never a mix of both
    assert refs.names(f"?agent={_agent(COACH)}&verb={quote(COMPLETED)}") == []
    assert refs.names(f"?agent={_agent(BEN)}") == []


def test_a_statement_stored_before_its_target_is_indexed_when_the_target_arrives(refs: Refs) -> None:
    target = new_id()
    refs.ref("confirmation", target)
    assert refs.names(f"?agent={_agent(ANA)}") == []
    with counting() as calls:  # the target's put finds the AwaitedStatement at its key, then is planned again
        refs.ana_completed(sid=target)
    assert calls.dynamodb == Counter({"TransactWriteItems": 2, "BatchGetItem": 2})
    # by the stored time of each statement itself: the target is the newer
    assert refs.names(f"?agent={_agent(ANA)}") == ["target", "confirmation"]
    assert refs.names(f"?registration={refs.reg}&verb={quote(COMPLETED)}") == ["target", "confirmation"]
    got = refs.lrs.request("GET", f"/statements?statementId={target}")
    assert got.status_code == 200 and json.loads(got.body)["id"] == target
    again = refs.lrs.request("POST", "/statements", {**statement(actor=ANA, verb={"id": COMPLETED},
                             object={"id": MODULE}, context={"registration": refs.reg}), "id": target})
    assert again.status_code == 200  # the same statement again: a no-op
    assert refs.names(f"?agent={_agent(ANA)}") == ["target", "confirmation"]


def test_the_voiding_statement_is_returned_by_the_voided_targets_filters(refs: Refs) -> None:
    target = refs.ana_completed()
    refs.ref("voiding", target, verb=VOIDED)
    assert refs.names(f"?agent={_agent(ANA)}") == ["voiding"]
    assert refs.names(f"?verb={quote(COMPLETED)}") == ["voiding"]
    # a statement referencing the voided target afterwards is returned as well (XAPI-00162)
    refs.ref("reference", target, verb=COMPLETED, actor=BEN)
    assert refs.names(f"?verb={quote(COMPLETED)}") == ["reference", "voiding"]


def test_a_target_stored_after_its_voiding_statement_arrives_voided(refs: Refs) -> None:
    target = new_id()
    refs.ref("voiding", target, verb=VOIDED)
    refs.ana_completed(sid=target)
    assert refs.names(f"?agent={_agent(ANA)}") == ["voiding"]
    assert refs.names("") == ["voiding"]  # unfiltered too: the voided target is left out
    assert refs.lrs.request("GET", f"/statements?voidedStatementId={target}").status_code == 200


def test_since_and_until_apply_to_the_referencing_statement(refs: Refs) -> None:
    target = refs.ana_completed()
    refs.ref("confirmation", target)
    stored = {s["id"]: s["stored"] for s in refs.page("")["statements"]}
    at_target = quote(stored[target])
    assert refs.names(f"?agent={_agent(ANA)}&since={at_target}") == ["confirmation"]
    assert refs.names(f"?agent={_agent(ANA)}&until={at_target}") == ["target"]
    assert refs.names(f"?agent={_agent(ANA)}&limit=1") == ["confirmation"]


def test_a_chain_of_references_is_followed(refs: Refs) -> None:
    target = refs.ana_completed()
    first = refs.ref("confirmation", target)
    refs.ref("audit", first, actor=BEN)
    assert refs.names(f"?agent={_agent(ANA)}") == ["audit", "confirmation", "target"]
    assert refs.names(f"?agent={_agent(COACH)}") == ["audit", "confirmation"]
    assert refs.names(f"?verb={quote(COMPLETED)}&registration={refs.reg}") == ["audit", "confirmation", "target"]


def test_a_chain_stored_before_its_target_is_completed_when_the_target_arrives(refs: Refs) -> None:
    target = new_id()
    first = refs.ref("confirmation", target)
    refs.ref("audit", first, actor=BEN)
    assert refs.names(f"?agent={_agent(COACH)}") == ["audit", "confirmation"]
    refs.ana_completed(sid=target)
    assert refs.names(f"?agent={_agent(ANA)}") == ["target", "audit", "confirmation"]


def test_a_chain_in_one_batch_and_a_voided_reference(refs: Refs) -> None:
    target, first, second = new_id(), new_id(), new_id()
    batch = [statement(actor=BEN, verb={"id": CONFIRMED}, object={"objectType": "StatementRef", "id": first}),
             statement(actor=COACH, verb={"id": CONFIRMED}, object={"objectType": "StatementRef", "id": target}),
             statement(actor=ANA, verb={"id": COMPLETED}, object={"id": MODULE})]
    for doc, sid, name in zip(batch, (second, first, target), ("audit", "confirmation", "target"), strict=True):
        doc["id"] = sid
        refs.ids[name] = sid
    assert refs.lrs.request("POST", "/statements", batch).status_code == 200
    assert sorted(refs.names(f"?agent={_agent(ANA)}")) == ["audit", "confirmation", "target"]
    refs.ref("voiding", first, verb=VOIDED)  # the confirmation is voided: gone from every filter
    assert sorted(refs.names(f"?agent={_agent(ANA)}")) == ["audit", "target", "voiding"]
    assert sorted(refs.names(f"?agent={_agent(COACH)}")) == ["audit", "voiding"]


@pytest.mark.parametrize("ascending", ["true", "false"])
def test_pages_return_a_statement_once_though_a_partition_holds_it_twice(refs: Refs, ascending: str) -> None:
    target = refs.ana_completed()
    refs.ref("same verb", target, verb=COMPLETED)  # its own copy and one under the target: one partition
    refs.ref("other", target, verb=COMPLETED, actor=BEN)
    seen: list[str] = []
    page = refs.page(f"?agent={_agent(ANA)}&limit=1&ascending={ascending}")
    while True:
        seen += [s["id"] for s in page["statements"]]
        if not page["more"]:
            break
        resp = refs.lrs.api.client.http.get(page["more"], headers={
            "Authorization": f"Bearer {refs.lrs.admin}", "X-Experience-API-Version": "1.0.3"})
        page = json.loads(resp.body)
    expected = [refs.ids[n] for n in ("target", "same verb", "other")]
    assert seen == (expected if ascending == "true" else expected[::-1])


def test_many_statements_waiting_for_one_target_are_written_in_transactions_of_their_own(refs: Refs) -> None:
    target = new_id()
    waiting = [statement(actor=COACH, verb={"id": CONFIRMED}, object={"objectType": "StatementRef", "id": target})
               for _ in range(25)]  # 5 operations each when the target arrives: more than one transaction
    assert refs.lrs.request("POST", "/statements", waiting).status_code == 200
    with counting() as calls:
        refs.ana_completed(sid=target)
    # cancelled on the awaited item, then 99 of the waiting ones, then the rest with the target itself
    assert calls.dynamodb == Counter({"TransactWriteItems": 3, "BatchGetItem": 2})
    found = refs.page(f"?agent={_agent(ANA)}")["statements"]
    assert len(found) == 26 and found[0]["id"] == target
