"""The Statement Resource: PUT/POST (single, batch), idempotency on id, authority, GET by id, voiding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.lrs_helpers import new_id, statement


def _get(lrs: Any, sid: str, name: str = "statementId") -> Any:
    return lrs.request("GET", f"/statements?{name}={sid}")


def test_put_stores_and_get_returns_it_with_what_the_lrs_sets(lrs: Any) -> None:
    sid = new_id()
    resp = lrs.request("PUT", f"/statements?statementId={sid}", statement())
    assert resp.status_code == 204 and resp.body in (b"", "")
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"
    got = _get(lrs, sid)
    assert got.status_code == 200, got.body
    doc = json.loads(got.body)
    assert doc["id"] == sid and doc["verb"]["id"].endswith("/completed")
    assert doc["authority"] == {"objectType": "Agent",
                                "account": {"homePage": "https://onramp.local/lrs", "name": lrs.key}}
    assert doc["stored"] == doc["timestamp"] and doc["version"] == "1.0.0"
    assert got.headers["Last-Modified"].endswith("GMT")
    assert "X-Experience-API-Consistent-Through" in got.headers
    head = lrs.request("HEAD", f"/statements?statementId={sid}")
    assert head.status_code == 200 and head.body in (b"", "")


def test_authority_sent_by_the_client_is_replaced(lrs: Any) -> None:
    sid = new_id()
    forged = {"objectType": "Agent", "mbox": "mailto:boss@example.com"}
    assert lrs.request("PUT", f"/statements?statementId={sid}", statement(authority=forged)).status_code == 204
    assert json.loads(_get(lrs, sid).body)["authority"]["account"]["name"] == lrs.key


def test_bearer_token_authority_is_the_platform_subject(lrs: Any) -> None:
    resp = lrs.request("POST", "/statements", statement(), auth=f"Bearer {lrs.admin}")
    assert resp.status_code == 200
    doc = json.loads(_get(lrs, json.loads(resp.body)[0]).body)
    assert doc["authority"]["account"]["homePage"] == "https://onramp.local"


def test_same_id_same_content_is_a_no_op_different_content_is_409(lrs: Any) -> None:
    sid = new_id()
    body = statement(timestamp="2026-01-02T03:04:05.678Z")
    assert lrs.request("PUT", f"/statements?statementId={sid}", body).status_code == 204
    assert lrs.request("PUT", f"/statements?statementId={sid}", body).status_code == 204
    assert lrs.request("POST", "/statements", {**body, "id": sid}).status_code == 200
    changed = statement(verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    assert lrs.request("PUT", f"/statements?statementId={sid}", changed).status_code == 409
    assert lrs.request("POST", "/statements", [{**changed, "id": sid}]).status_code == 409
    assert json.loads(_get(lrs, sid).body)["verb"]["id"].endswith("/completed")


@pytest.mark.parametrize("query", ["", "?statementId=not-a-uuid", "?statementId={sid}&verb=http://x.com/v"])
def test_put_needs_exactly_a_statement_id(lrs: Any, query: str) -> None:
    resp = lrs.request("PUT", "/statements" + query.format(sid=new_id()), statement())
    assert resp.status_code == 400


def test_put_with_a_different_id_in_the_body_is_400(lrs: Any) -> None:
    resp = lrs.request("PUT", f"/statements?statementId={new_id()}", statement(id=new_id()))
    assert resp.status_code == 400


def test_post_single_and_batch_return_ids_in_order(lrs: Any) -> None:
    single = lrs.request("POST", "/statements", statement())
    assert single.status_code == 200 and len(json.loads(single.body)) == 1
    given = new_id()
    batch = lrs.request("POST", "/statements", [statement(), statement(id=given), statement()])
    ids = json.loads(batch.body)
    assert batch.status_code == 200 and len(ids) == 3 and ids[1] == given
    for sid in ids:
        assert _get(lrs, sid).status_code == 200


def test_a_batch_with_one_bad_statement_stores_nothing(lrs: Any) -> None:
    good = new_id()
    resp = lrs.request("POST", "/statements", [statement(id=good), statement(verb={"id": "completed"})])
    assert resp.status_code == 400
    assert _get(lrs, good).status_code == 404


def test_a_batch_repeating_an_id_is_400(lrs: Any) -> None:
    sid = new_id()
    assert lrs.request("POST", "/statements", [statement(id=sid), statement(id=sid)]).status_code == 400


def test_large_batch_is_stored_whole(lrs: Any) -> None:
    docs = [statement(actor={"mbox": f"mailto:l{n}@example.com"}) for n in range(60)]
    resp = lrs.request("POST", "/statements", docs)
    assert resp.status_code == 200 and len(json.loads(resp.body)) == 60
    page = json.loads(lrs.request("GET", "/statements?limit=100").body)
    assert len(page["statements"]) == 60


def test_malformed_json_and_wrong_content_type_are_400(lrs: Any) -> None:
    assert lrs.request("POST", "/statements", raw="{not json").status_code == 400
    resp = lrs.request("POST", "/statements", statement(), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400


def test_get_by_id_rejects_extra_or_conflicting_parameters(lrs: Any) -> None:
    sid = new_id()
    lrs.request("PUT", f"/statements?statementId={sid}", statement())
    assert lrs.request("GET", f"/statements?statementId={sid}&voidedStatementId={sid}").status_code == 400
    assert lrs.request("GET", f"/statements?statementId={sid}&verb=http://x.com/v").status_code == 400
    assert lrs.request("GET", f"/statements?statementId={sid}&format=ids").status_code == 200
    assert lrs.request("GET", f"/statements?statementId={new_id()}").status_code == 404


def _void(lrs: Any, target: str) -> Any:
    return lrs.request("POST", "/statements", statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        object={"objectType": "StatementRef", "id": target}))


def test_voiding_hides_the_target_but_keeps_it_by_voided_statement_id(lrs: Any) -> None:
    target = new_id()
    lrs.request("PUT", f"/statements?statementId={target}", statement())
    voiding = _void(lrs, target)
    assert voiding.status_code == 200, voiding.body
    voiding_id = json.loads(voiding.body)[0]
    assert _get(lrs, target).status_code == 404
    got = _get(lrs, target, "voidedStatementId")
    assert got.status_code == 200 and json.loads(got.body)["id"] == target
    assert _get(lrs, voiding_id).status_code == 200
    assert _get(lrs, voiding_id, "voidedStatementId").status_code == 404
    listed = [s["id"] for s in json.loads(lrs.request("GET", "/statements").body)["statements"]]
    assert voiding_id in listed and target not in listed
    by_agent = json.loads(lrs.request("GET", "/statements?agent=" + json.dumps(
        {"mbox": "mailto:learner@example.com"})).body)["statements"]
    assert target not in [s["id"] for s in by_agent]


def test_a_voiding_statement_cannot_be_voided(lrs: Any) -> None:
    target = new_id()
    lrs.request("PUT", f"/statements?statementId={target}", statement())
    voiding_id = json.loads(_void(lrs, target).body)[0]
    assert _void(lrs, voiding_id).status_code == 400


def test_voiding_an_unknown_statement_is_accepted_and_applies_when_it_arrives(lrs: Any) -> None:
    target = new_id()
    assert _void(lrs, target).status_code == 200
    lrs.request("PUT", f"/statements?statementId={target}", statement())
    assert _get(lrs, target).status_code == 404
    assert _get(lrs, target, "voidedStatementId").status_code == 200


def test_a_voiding_statement_must_reference_a_statement(lrs: Any) -> None:
    resp = lrs.request("POST", "/statements", statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}))
    assert resp.status_code == 400


def test_write_only_credentials_cannot_read(lrs: Any) -> None:
    writer = lrs.credential(["statements/write"])
    sid = new_id()
    assert lrs.request("PUT", f"/statements?statementId={sid}", statement(), auth=writer).status_code == 204
    assert lrs.request("GET", f"/statements?statementId={sid}", auth=writer).status_code == 403
    reader = lrs.credential(["statements/read"])
    assert lrs.request("PUT", f"/statements?statementId={new_id()}", statement(), auth=reader).status_code == 403


def test_a_single_context_activity_comes_back_as_a_list(lrs: Any) -> None:
    sid = new_id()
    parent = {"id": "http://example.com/courses/c1"}
    lrs.request("PUT", f"/statements?statementId={sid}", statement(context={"contextActivities": {"parent": parent}}))
    assert json.loads(_get(lrs, sid).body)["context"]["contextActivities"]["parent"] == [parent]


def test_every_statement_get_says_how_current_it_is_even_an_error(lrs: Any) -> None:
    for query in ("", f"?statementId={new_id()}", "?verb=notaniri"):
        resp = lrs.request("GET", "/statements" + query)
        assert resp.headers["X-Experience-API-Consistent-Through"].endswith("Z"), (query, resp.status_code)


def test_format_ids_reduces_activities_to_their_id(lrs: Any) -> None:
    sid = new_id()
    lrs.request("PUT", f"/statements?statementId={sid}", statement())
    doc = json.loads(lrs.request("GET", f"/statements?statementId={sid}&format=ids").body)
    assert doc["object"] == {"id": "http://example.com/courses/discovery-calls"}
    assert doc["actor"] == {"objectType": "Agent", "mbox": "mailto:learner@example.com"}


def test_stored_statements_raise_one_event_per_transaction_that_consumers_receive(api, lrs):
    from chalicelib.events import consumer
    from tests.unit.course_helpers import Stream

    got: list = []
    consumer._HANDLERS["StatementsStored"].append(got.append)
    try:
        batch = [{"actor": {"mbox": "mailto:rep@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                  "object": {"id": f"http://example.com/roleplay/{i}"}, "result": {"success": True}}
                 for i in range(3)]
        ids = json.loads(lrs.request("POST", "/statements", batch).body)
        lrs.request("POST", "/statements", [dict(batch[0], id=ids[0])])  # a replay stores nothing
        Stream(api).drain()
    finally:
        consumer._HANDLERS["StatementsStored"].remove(got.append)
    assert len(got) == 1 and got[0].tenant_id == lrs.tenant_id
    summaries = got[0].detail["statements"]
    assert [s["id"] for s in summaries] == ids
    assert summaries[0]["verb"] == "http://adlnet.gov/expapi/verbs/passed"
    assert summaries[0]["activity"] == "http://example.com/roleplay/0" and summaries[0]["result"] == {"success": True}
