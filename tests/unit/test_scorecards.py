"""Quarterly KPI scorecards: RAG per tier with explanations, grey for no data, incentives, tier eligibility, the
operator's thresholds and inputs, the job (idempotent) and `onramp jobs run scorecards --quarter` (docs/partners.md).

Figures are injected through `scorecards.Sources` (the seam the job and service take); the routes use the real
lead and SLA capabilities, whose figures for a partner without leads or cases are empty (grey KPIs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.partners import scorecard_job, scorecard_rules, scorecards
from tests.unit.course_helpers import Stream

Q1_CLOSE = datetime(2027, 4, 1, 4, 0, tzinfo=UTC)


@pytest.fixture()
def now(pin_clock: Any) -> Any:
    """The server clock, pinned at 2027-01-04 09:00 UTC and movable: `now.at(moment)`."""
    return pin_clock(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))


def lead_figures(**overrides: Any) -> dict[str, Any]:
    base = {"offered": 12, "claimed": 10, "declined": 1, "timedOut": 1, "claimRatePercent": Decimal("83.33"),
            "medianHoursToClaim": Decimal("10.50"), "pipeline": Decimal("150000.00"), "won": 3, "lost": 7,
            "newArr": Decimal("30000.00"), "winRatePercent": Decimal("30.00")}
    return {**base, **overrides}


def sla_figures(**overrides: Any) -> dict[str, Any]:
    base = {"cases": 20, "responseMet": 19, "resolutionMet": 19, "breaches": 1, "adherencePercent": Decimal("96.00"),
            "uptimePercent": Decimal("99.700"), "uptimeMonths": {}}
    return {**base, **overrides}


def fake_sources(leads: dict[str, Any] | None = None, year_arr: str = "220000.00", sla: dict[str, Any] | None = None,
                 year_sla: str = "96.50", reps: int = 4, program: str | None = "sp-demo") -> scorecards.Sources:
    """Sources answering fixed figures: the quarter's, or (for the trailing four quarters) year_arr/year_sla."""
    calls: list[tuple[str, str, str]] = []

    def trailing(start: str, end: str) -> bool:
        return (datetime.fromisoformat(end[:10]) - datetime.fromisoformat(start[:10])).days > 100

    def leads_of(pid: str, start: str, end: str) -> dict[str, Any]:
        calls.append((pid, start, end))
        got = leads if leads is not None else lead_figures()
        return {**got, "newArr": Decimal(year_arr)} if trailing(start, end) else got

    def sla_of(pid: str, start: str, end: str) -> dict[str, Any]:
        got = sla if sla is not None else sla_figures()
        return {**got, "adherencePercent": Decimal(year_sla)} if trailing(start, end) else got

    made = scorecards.Sources(leads_of, sla_of, lambda: program, lambda pid, prog: reps if prog == program else 0)
    object.__setattr__(made, "calls", calls)  # what the lead figures were asked for
    return made


@pytest.fixture()
def stream(api: Any) -> Stream:
    return Stream(api)


def partner(api: Any, stream: Stream, tier: str | None = None) -> dict[str, Any]:
    made = api.make_tenant(template="reseller")
    if tier:
        assert api.call("PUT", f"/v1/partners/{made['id']}/tier", api.operator, {"tier": tier}).status_code == 200
    stream.drain()  # TenantCreated: the onboarding plan, which lists the partner for the job
    return {**made, "admin": api.tenant_admin(made["id"])}


def stored(partner_id: str, quarter: str = "2027Q1") -> Any:
    from chalicelib.store import keys
    from chalicelib.store.models import Scorecard

    return Scorecard.get(keys.scorecards_pk(partner_id), keys.scorecard_sk(quarter))


def kpis(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["id"]: k for k in card["kpis"]}


def test_kpis_are_rated_against_the_thresholds_of_the_partners_tier(api: Any, stream: Stream, now: Any) -> None:
    preferred, strategic = partner(api, stream, "preferred"), partner(api, stream, "strategic")
    for p in (preferred, strategic):
        resp = api.call("PUT", f"/v1/partners/{p['id']}/kpi-inputs/2027Q1", api.operator,
                        {"customerSatisfactionPercent": "89", "renewalRatePercent": "86"})
        assert resp.status_code == 200, resp.body
    result = scorecard_job.run(Q1_CLOSE, fake_sources(reps=8))
    assert result["quarter"] == "2027Q1" and result["written"] == 2
    pref, strat = kpis(stored(preferred["id"]).card), kpis(stored(strategic["id"]).card)
    assert {k: v["rating"] for k, v in pref.items()} == {
        "certifiedReps": "green", "pipeline": "green", "newArr": "green", "claimRate": "amber", "timeToClaim": "green",
        "winRate": "green", "slaAdherence": "green", "uptime": "green", "customerSatisfaction": "green",
        "renewalRate": "amber", "onboarding": "red"}
    assert {k: v["rating"] for k, v in strat.items()} == {
        "certifiedReps": "amber", "pipeline": "red", "newArr": "red", "claimRate": "amber", "timeToClaim": "amber",
        "winRate": "green", "slaAdherence": "amber", "uptime": "green", "customerSatisfaction": "amber",
        "renewalRate": "amber", "onboarding": "red"}
    assert strat["certifiedReps"]["explanation"] == (
        "8 certified reps against a green threshold of 10 for Strategic (amber from 6): amber.")
    assert pref["certifiedReps"]["explanation"] == (
        "8 certified reps against a green threshold of 5 for Preferred (amber from 3): green.")
    assert strat["timeToClaim"]["explanation"] == (
        "A median of 10.5 hours to claim a lead against a green threshold of at most 8 hours for Strategic "
        "(amber up to 16 hours): amber.")
    assert strat["pipeline"]["explanation"].startswith("150,000.00 pipeline from claimed leads against a green "
                                                       "threshold of 400,000.00 for Strategic")
    assert pref["onboarding"]["explanation"].startswith("0% of the onboarding milestones due met on time")


def test_a_kpi_without_data_is_grey_and_explained_never_red(api: Any, stream: Stream, now: Any) -> None:
    p = partner(api, stream, "strategic")
    nothing = scorecards.Sources(None, None, None, None)
    scorecard_job.run(Q1_CLOSE, nothing)
    card = stored(p["id"]).card
    grey = {k: v["explanation"] for k, v in kpis(card).items() if v["rating"] == "grey"}
    assert set(grey) == set(scorecard_rules.KPIS) - {"onboarding"}  # the plan's milestones are real data
    assert grey["certifiedReps"] == ("Not rated: no required certification program is set (lead-routing "
                                     "requiredProgramId) in 2027Q1.")
    assert grey["pipeline"] == "Not rated: lead figures are not available in 2027Q1."
    assert f"PUT /v1/partners/{p['id']}/kpi-inputs/2027Q1" in grey["customerSatisfaction"]
    assert all(v["value"] is None for k, v in kpis(card).items() if k in grey)
    # with sources that answer but measured nothing: still grey, each with its reason
    empty = lead_figures(offered=0, claimed=0, declined=0, timedOut=0, claimRatePercent=None,
                         medianHoursToClaim=None, pipeline=Decimal("0.00"), won=0, lost=0, newArr=Decimal("0.00"),
                         winRatePercent=None)
    scorecard_job.run(Q1_CLOSE, fake_sources(leads=empty, sla=sla_figures(adherencePercent=None, uptimePercent=None)))
    later = kpis(stored(p["id"]).card)
    assert later["pipeline"]["explanation"] == "Not rated: no lead was offered to the partner in 2027Q1."
    assert later["winRate"]["rating"] == later["newArr"]["rating"] == later["slaAdherence"]["rating"] == "grey"
    assert "no monthly uptime" in later["uptime"]["explanation"]
    assert later["certifiedReps"]["rating"] == "red"  # measured: 4 reps, below Strategic's amber (6)


def test_incentives_follow_the_ratings(aws: None) -> None:
    rule = scorecard_rules.DEFAULT_INCENTIVES["marginIncrease"]
    greens = {k: "green" for k in list(scorecard_rules.KPIS)[:6]}
    assert scorecard_rules.incentive("marginIncrease", rule, greens)["eligible"]
    one_red = {**greens, "slaAdherence": "red"}
    verdict = scorecard_rules.incentive("marginIncrease", rule, one_red)
    assert not verdict["eligible"]
    assert verdict["explanation"] == ("Margin increase: not eligible, because 1 red KPI(s) (SLA adherence), at most 0 "
                                      "allowed; SLA adherence is red and must not be.")
    co = scorecard_rules.DEFAULT_INCENTIVES["coSellingSupport"]
    assert scorecard_rules.incentive("coSellingSupport", co, one_red)["eligible"]
    assert not scorecard_rules.incentive("coSellingSupport", co, {**one_red, "certifiedReps": "red"})["eligible"]
    nothing = scorecard_rules.incentive("marketingFunds", scorecard_rules.DEFAULT_INCENTIVES["marketingFunds"],
                                        {k: "grey" for k in scorecard_rules.KPIS})
    assert not nothing["eligible"] and "no KPI could be rated" in nothing["explanation"]
    assert scorecard_rules.overall({"a": "green", "b": "amber"}) == "green"
    assert scorecard_rules.overall({"a": "green", "b": "red"}) == "amber"
    assert scorecard_rules.overall({"a": "red", "b": "red", "c": "green"}) == "red"
    assert scorecard_rules.overall({"a": "grey"}) == "grey"


def test_tier_eligibility_names_what_is_missing(api: Any, stream: Stream, now: Any) -> None:
    p = partner(api, stream, "preferred")
    scorecard_job.run(Q1_CLOSE, fake_sources(reps=4, year_arr="220000.00", year_sla="96.50"))
    card = stored(p["id"]).card
    tiers = card["tierEligibility"]
    assert tiers["currentTier"] == "preferred" and tiers["meetsCurrent"] and tiers["highestQualifying"] == "preferred"
    assert tiers["summary"] == (
        "Meets Preferred; qualifies for Strategic? no, because 4 certified reps against 6 needed for Strategic; "
        "220,000.00 new ARR over the trailing four quarters against 500,000.00 needed for Strategic.")
    assert card["incentives"]["marginIncrease"]["eligible"] is False
    scorecard_job.run(Q1_CLOSE, fake_sources(reps=2, year_arr="50000", year_sla="80"))
    low = stored(p["id"]).card["tierEligibility"]
    assert not low["meetsCurrent"] and low["highestQualifying"] == "registered"
    assert low["summary"].startswith("Does not meet Preferred, because 2 certified reps against 3 needed")


def test_the_job_is_idempotent_and_version_stamped(api: Any, stream: Stream, now: Any) -> None:
    a, b = partner(api, stream), partner(api, stream)
    now.at(datetime(2027, 4, 20, tzinfo=UTC))
    late = partner(api, stream)  # joined after 2027Q1 closed: no Q1 scorecard
    src = fake_sources()
    first = scorecard_job.run(Q1_CLOSE, src)
    assert {k: first[k] for k in ("partners", "written", "unchanged", "skipped")} == {
        "partners": 3, "written": 2, "unchanged": 0, "skipped": 1}
    assert {c[0] for c in src.calls} == {a["id"], b["id"]}  # type: ignore[attr-defined]
    assert ("2027-01-01T00:00:00.000Z", "2027-04-01T00:00:00.000Z") in {c[1:] for c in src.calls}  # type: ignore
    assert ("2026-04-01T00:00:00.000Z", "2027-04-01T00:00:00.000Z") in {c[1:] for c in src.calls}  # type: ignore
    card = stored(a["id"])
    again = scorecard_job.run(datetime(2027, 5, 2, tzinfo=UTC), src)  # any day of Q2 computes Q1
    assert again["quarter"] == "2027Q1" and again["written"] == 0 and again["unchanged"] == 2
    assert stored(a["id"]).version == 1 and stored(a["id"]).computed_at == card.computed_at
    changed = scorecard_job.run(Q1_CLOSE, fake_sources(reps=9))
    assert changed["written"] == 2 and stored(a["id"]).version == 2
    assert kpis(stored(a["id"]).card)["certifiedReps"]["value"] == "9"
    from chalicelib.store.models import Scorecard

    with pytest.raises(Scorecard.DoesNotExist):
        stored(late["id"])


def test_cli_runs_the_scorecards_of_a_quarter(aws: None, api: Any, capsys: Any) -> None:
    from chalicelib import cli

    made = api.make_tenant(template="reseller")
    Stream(api).drain()
    capsys.readouterr()  # the set-up's request logs
    assert cli.main(["--aws-env", "jobs", "run", "scorecards", "--quarter", "2027q1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["quarter"] == "2027Q1" and result["asOf"] == "2027-04-01T00:00:00+00:00"
    assert result["partners"] == 1 and result["written"] == 1
    assert stored(made["id"]).card["quarter"] == "2027Q1"
    assert cli.main(["--aws-env", "jobs", "run", "scorecards", "--quarter", "2027Q1"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1
    assert cli.main(["--aws-env", "jobs", "run", "scorecards", "--quarter", "2027Q1", "--as-of", "2027-05-01"]) == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--aws-env", "jobs", "run", "scorecards", "--quarter", "2027Q5"])
    assert exit_info.value.code == 2 and "2027Q5" in capsys.readouterr().err


def test_scorecard_routes(api: Any, stream: Stream, now: Any) -> None:
    p, rival = partner(api, stream, "preferred"), partner(api, stream)
    customer = api.make_tenant(parentTenantId=p["id"])
    _, learner = api.user_token(p["id"], ["learner"])
    now.at(datetime(2027, 5, 10, tzinfo=UTC))
    base = f"/v1/partners/{p['id']}"
    missing = api.call("GET", f"{base}/scorecards/2027Q1", p["admin"])
    assert missing.status_code == 404 and "--quarter 2027Q1" in api.json(missing)["detail"]
    bad = api.call("GET", f"{base}/scorecards/2027-Q1", p["admin"])
    assert bad.status_code == 400 and api.json(bad)["errors"][0]["field"] == "quarter"
    future = api.call("PUT", f"{base}/kpi-inputs/2027Q3", api.operator, {"renewalRatePercent": "90"})
    assert future.status_code == 400 and "not started" in api.json(future)["detail"]
    assert api.call("PUT", f"{base}/kpi-inputs/2027Q1", api.operator, {}).status_code == 400
    assert api.call("PUT", f"{base}/kpi-inputs/2027Q1", p["admin"], {"renewalRatePercent": "100"}).status_code == 403
    put = api.call("PUT", f"{base}/kpi-inputs/2027Q1", api.operator, {"customerSatisfactionPercent": "91.5"})
    assert put.status_code == 200 and api.json(put)["customerSatisfactionPercent"] == "91.50"
    assert api.call("POST", f"{base}/scorecards/2027Q1/compute", p["admin"]).status_code == 403
    computed = api.call("POST", f"{base}/scorecards/2027Q1/compute", api.operator)
    assert computed.status_code == 200, computed.body
    card = api.json(computed)
    assert card["version"] == 1 and card["tier"] == {"id": "preferred", "name": "Preferred"}
    assert kpis(card)["customerSatisfaction"]["rating"] == "green"
    assert kpis(card)["renewalRate"]["rating"] == "grey"  # real sources: no leads, no cases -> grey, not red
    assert kpis(card)["pipeline"]["rating"] == "grey" and kpis(card)["slaAdherence"]["rating"] == "grey"
    got = api.call("GET", f"{base}/scorecards/2027q1", p["admin"])
    assert got.status_code == 200 and api.json(got) == card
    listed = api.json(api.call("GET", f"{base}/scorecards", p["admin"]))
    assert [i["quarter"] for i in listed["items"]] == ["2027Q1"] and listed["items"][0]["overall"] == card["overall"]
    customer_admin = api.tenant_admin(customer["id"])
    for token in (rival["admin"], customer_admin):
        assert api.call("GET", f"{base}/scorecards/2027Q1", token).status_code == 404
        assert api.call("GET", f"{base}/scorecards", token).status_code == 404
    assert api.call("GET", f"{base}/scorecards/2027Q1", learner).status_code == 403
    assert api.call("GET", f"/v1/partners/{customer['id']}/scorecards", api.operator).status_code == 404


def test_operator_thresholds_change_the_ratings(api: Any, stream: Stream, now: Any) -> None:
    p = partner(api, stream, "strategic")
    body = {"tiers": {"strategic": {"certifiedReps": {"green": "4", "amber": "2"},
                                    "timeToClaim": {"green": "12", "amber": "24"}}},
            "incentives": {"marketingFunds": {"maxRed": 5, "minGreen": 1}}}
    assert api.call("PUT", "/v1/scorecard-thresholds", p["admin"], body).status_code == 403
    wrong = {"tiers": {"strategic": {"certifiedReps": {"green": "1", "amber": "2"},
                                     "timeToClaim": {"green": "30", "amber": "24"}}}}
    resp = api.call("PUT", "/v1/scorecard-thresholds", api.operator, wrong)
    assert resp.status_code == 400
    assert [e["field"] for e in api.json(resp)["errors"]] == ["tiers.strategic.certifiedReps.green",
                                                              "tiers.strategic.timeToClaim.green"]
    resp = api.call("PUT", "/v1/scorecard-thresholds", api.operator, body)
    assert resp.status_code == 200 and api.json(resp)["version"] == 1
    seen = api.json(api.call("GET", "/v1/scorecard-thresholds", p["admin"]))
    assert seen["source"] == "operator" and seen["thresholds"]["strategic"]["certifiedReps"] == {"green": "4",
                                                                                                 "amber": "2"}
    assert seen["thresholds"]["strategic"]["pipeline"] == scorecard_rules.DEFAULT_THRESHOLDS["strategic"]["pipeline"]
    scorecard_job.run(Q1_CLOSE, fake_sources(reps=4))
    card = stored(p["id"]).card
    assert kpis(card)["certifiedReps"]["rating"] == "green" and kpis(card)["timeToClaim"]["rating"] == "green"
    assert card["thresholdsVersion"] == 1 and card["incentives"]["marketingFunds"]["eligible"]


def test_the_job_costs_the_same_per_partner_and_never_scans(api: Any, stream: Stream, now: Any) -> None:
    from collections import Counter

    from tests.unit import callcount

    for _ in range(3):
        partner(api, stream)
    src = fake_sources()  # the sources' own queries are theirs (budgeted with their capabilities)
    with callcount.counting() as calls:
        scorecard_job.run(Q1_CLOSE, src)
    # once: tiers + thresholds (1 BatchGetItem), the partners index (1 Query); per partner: 1 BatchGetItem, 1 write
    assert calls.dynamodb == Counter({"BatchGetItem": 4, "Query": 1, "TransactWriteItems": 3})
    with callcount.counting() as again:
        scorecard_job.run(Q1_CLOSE, src)
    assert again.dynamodb == Counter({"BatchGetItem": 4, "Query": 1})  # unchanged figures: nothing written


def test_one_partners_failure_does_not_stop_the_others(api: Any, stream: Stream, now: Any) -> None:
    """A source failing for one partner is logged and counted; the others' cards are written; a re-run
    computes the failed one once its source answers."""
    broken, healthy = partner(api, stream, "preferred"), partner(api, stream, "preferred")
    working = fake_sources()

    def leads_of(pid: str, start: str, end: str) -> dict[str, Any]:
        if pid == broken["id"]:
            raise RuntimeError("the lead figures are unreachable")
        assert working.lead_figures is not None
        return working.lead_figures(pid, start, end)

    flaky = scorecards.Sources(leads_of, working.sla_figures, working.required_program_id, working.certified_reps)
    result = scorecard_job.run(Q1_CLOSE, flaky)
    assert (result["failed"], result["written"]) == (1, 1), result
    assert stored(healthy["id"]).version == 1
    again = scorecard_job.run(Q1_CLOSE, working)
    assert (again["failed"], again["written"], again["unchanged"]) == (0, 1, 1)
    assert stored(broken["id"]).version == 1
