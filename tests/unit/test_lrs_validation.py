"""Statement validation (xAPI 1.0.3 Part Two §2): every violation is a 400 and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.lrs.validate import Invalid
from chalicelib.lrs.validate_statement import statement as validate
from tests.unit.lrs_helpers import make_lrs, new_id, statement

ACT = {"objectType": "Activity", "id": "http://example.com/a"}
AGENT = {"objectType": "Agent", "mbox": "mailto:a@example.com"}
REF = {"objectType": "StatementRef", "id": "f1b0b5a2-6c8d-4a8e-9d5f-1b2c3d4e5f60"}
SUB = {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://example.com/v"}, "object": ACT}

VALID = {
    "duration in weeks": statement(result={"duration": "P4W"}),
    "OAuth authority (anonymous group of two)": statement(authority={"objectType": "Group", "member": [
        {"mbox": "mailto:app@example.com"}, {"account": {"homePage": "http://example.com", "name": "u"}}]}),
    "minimal": statement(),
    "group actor (anonymous)": statement(actor={"objectType": "Group", "member": [AGENT]}),
    "identified group without members": statement(actor={"objectType": "Group", "account": {
        "homePage": "http://example.com", "name": "team-1"}}),
    "agent object": statement(object=AGENT),
    "statement ref": statement(object=REF),
    "sub-statement": statement(object=SUB),
    "full result": statement(result={"score": {"scaled": -1, "raw": 0, "min": 0, "max": 1}, "success": False,
                                     "completion": True, "response": "x", "duration": "P1DT2H3M4.5S",
                                     "extensions": {"http://example.com/ext": {"any": None}}}),
    "full context": statement(context={
        "registration": new_id(), "instructor": AGENT, "team": {"objectType": "Group", "member": [AGENT]},
        "contextActivities": {"parent": ACT, "grouping": [ACT], "category": [ACT], "other": [ACT]},
        "revision": "r1", "platform": "web", "language": "zh-Hant-TW", "statement": REF,
        "extensions": {"http://example.com/e": 1}}),
    "interaction": statement(object={"id": "http://example.com/q", "definition": {
        "interactionType": "choice", "correctResponsesPattern": ["a"],
        "choices": [{"id": "a", "description": {"en": "A"}}, {"id": "b", "description": {"en": "B"}}]}}),
    "timestamp with offset": statement(timestamp="2026-11-23T12:00:00+05:30"),
    "version 1.0.2": statement(version="1.0.2"),
    "attachment metadata": statement(attachments=[{
        "usageType": "http://example.com/u", "display": {"en": "doc"}, "contentType": "text/plain",
        "length": 3, "sha2": "abc", "fileUrl": "http://example.com/f"}]),
    "openid and sha1": statement(actor={"openid": "http://example.com/me"},
                                 object={"objectType": "Agent", "mbox_sha1sum": "a" * 40}),
}

INVALID = {
    "no actor": {k: v for k, v in statement().items() if k != "actor"},
    "no verb": {k: v for k, v in statement().items() if k != "verb"},
    "no object": {k: v for k, v in statement().items() if k != "object"},
    "unknown top-level property": statement(foo=1),
    "bad id": statement(id="123"),
    "verb id not an IRI": statement(verb={"id": "completed"}),
    "verb display not a language map": statement(verb={"id": "http://x.com/v", "display": "done"}),
    "bad language tag": statement(verb={"id": "http://x.com/v", "display": {"not a tag": "x"}}),
    "verb extra property": statement(verb={"id": "http://x.com/v", "name": "x"}),
    "agent with two IFIs": statement(actor={"mbox": "mailto:a@x.com", "openid": "http://x.com"}),
    "agent with no IFI": statement(actor={"name": "Nobody"}),
    "mbox without mailto": statement(actor={"mbox": "a@x.com"}),
    "sha1 not hex": statement(actor={"mbox_sha1sum": "xyz"}),
    "account without name": statement(actor={"account": {"homePage": "http://x.com"}}),
    "account homePage not IRI": statement(actor={"account": {"homePage": "x", "name": "n"}}),
    "anonymous group without members": statement(actor={"objectType": "Group"}),
    "group member is a group": statement(actor={"objectType": "Group", "member": [
        {"objectType": "Group", "member": [AGENT]}]}),
    "agent object without objectType": statement(object={"mbox": "mailto:a@x.com"}),
    "actor objectType wrong": statement(actor={"objectType": "Person", "mbox": "mailto:a@x.com"}),
    "activity without id": statement(object={"objectType": "Activity"}),
    "unknown object type": statement(object={"objectType": "Thing", "id": "http://x.com"}),
    "statement ref without objectType": statement(object={"id": REF["id"]}),
    "statement ref bad id": statement(object={"objectType": "StatementRef", "id": "nope"}),
    "nested sub-statement": statement(object={**SUB, "object": SUB}),
    "sub-statement with id": statement(object={**SUB, "id": new_id()}),
    "sub-statement with stored": statement(object={**SUB, "stored": "2026-01-01T00:00:00Z"}),
    "bad interaction type": statement(object={"id": "http://x.com/q", "definition": {"interactionType": "essay"}}),
    "components not allowed for type": statement(object={"id": "http://x.com/q", "definition": {
        "interactionType": "true-false", "choices": [{"id": "a"}]}}),
    "repeated component id": statement(object={"id": "http://x.com/q", "definition": {
        "interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}}),
    "definition unknown property": statement(object={"id": "http://x.com/q", "definition": {"title": "x"}}),
    "scaled above 1": statement(result={"score": {"scaled": 1.5}}),
    "raw above max": statement(result={"score": {"raw": 11, "min": 0, "max": 10}}),
    "min above max": statement(result={"score": {"min": 5, "max": 1}}),
    "score as string": statement(result={"score": {"raw": "5"}}),
    "success not boolean": statement(result={"success": "true"}),
    "bad duration": statement(result={"duration": "1 hour"}),
    "weeks next to days (P4W1D)": statement(result={"duration": "P4W1D"}),
    "authority an identified group": statement(authority={"objectType": "Group", "mbox": "mailto:g@example.com",
                                                          "member": [{"mbox": "mailto:a@example.com"},
                                                                     {"mbox": "mailto:b@example.com"}]}),
    "authority group of one": statement(authority={"objectType": "Group",
                                                   "member": [{"mbox": "mailto:a@example.com"}]}),
    "authority group of three": statement(authority={"objectType": "Group", "member": [
        {"mbox": f"mailto:{n}@example.com"} for n in "abc"]}),
    "extension key not an IRI": statement(result={"extensions": {"speed": 1}}),
    "registration not a UUID": statement(context={"registration": "abc"}),
    "revision with agent object": statement(object=AGENT, context={"revision": "r"}),
    "platform with agent object": statement(object=AGENT, context={"platform": "web"}),
    "unknown context activity key": statement(context={"contextActivities": {"sibling": [ACT]}}),
    "team is an agent": statement(context={"team": AGENT}),
    "context statement not a ref": statement(context={"statement": ACT}),
    "bad timestamp": statement(timestamp="yesterday"),
    "timestamp offset -00:00": statement(timestamp="2026-11-23T12:00:00-00:00"),
    "version 2": statement(version="2.0.0"),
    "null property": statement(result=None),
    "attachment without sha2": statement(attachments=[{"usageType": "http://x.com/u", "display": {"en": "d"},
                                                       "contentType": "text/plain", "length": 1}]),
    "attachment length negative": statement(attachments=[{"usageType": "http://x.com/u", "display": {"en": "d"},
                                                          "contentType": "t/p", "length": -1, "sha2": "a"}]),
    "voided verb with activity object": statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}),
    "statement is a list of lists": [statement()],
}


@pytest.mark.parametrize("doc", VALID.values(), ids=VALID.keys())
def test_valid_statements_pass(doc: Any) -> None:
    validate(doc)


@pytest.mark.parametrize("doc", INVALID.values(), ids=INVALID.keys())
def test_invalid_statements_are_rejected(doc: Any) -> None:
    with pytest.raises(Invalid):
        validate(doc)


def test_rejections_are_400_over_http_and_store_nothing(api: Any) -> None:
    lrs = make_lrs(api)
    for name in ("bad duration", "agent with two IFIs", "nested sub-statement", "timestamp offset -00:00"):
        sid = new_id()
        resp = lrs.request("PUT", f"/statements?statementId={sid}", INVALID[name])
        assert resp.status_code == 400, (name, resp.body)
        assert lrs.request("GET", f"/statements?statementId={sid}").status_code == 404
    first = lrs.request("GET", "/statements")
    assert first.status_code == 200 and first.json_body["statements"] == []
