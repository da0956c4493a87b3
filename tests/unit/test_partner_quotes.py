"""Partner tiers and the quote calculator (docs/partners.md): the worked example, the band clamp, the
operator's tiers, validation, and who may quote for a partner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.api.schemas import CreateQuote, PartnerTiers
from chalicelib.partners import quotes, tiers
from tests.unit.callcount import counting

TIERS = "/v1/partner-tiers"
WORKED = {"seats": 250, "listPricePerSeat": "40.00", "contentLicensingPerSeat": "5.00", "managedServices": "2000.00",
          "termYears": 3, "requestedMarginPercent": "27", "performanceRating": "green"}


@pytest.fixture()
def partner(api: Any) -> dict[str, Any]:
    p = api.make_tenant(template="reseller")
    p["admin"] = api.tenant_admin(p["id"])
    return p


def _quote(api: Any, partner_id: str, token: str, body: dict[str, Any]) -> Any:
    return api.call("POST", f"/v1/partners/{partner_id}/quotes", token, body)


def _assign(api: Any, partner_id: str, tier: str) -> Any:
    return api.call("PUT", f"/v1/partners/{partner_id}/tier", api.operator, {"tier": tier})


def _lines(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["line"]: line for line in doc["lines"]}


def test_worked_example_line_by_line(api: Any, partner: dict[str, Any]) -> None:
    assert _assign(api, partner["id"], "preferred").status_code == 200
    resp = _quote(api, partner["id"], partner["admin"], WORKED)
    assert resp.status_code == 200, resp.body
    doc = api.json(resp)
    lines = _lines(doc)
    assert doc["tier"]["id"] == "preferred"
    assert lines["listPrice"]["amount"] == "10000.00"  # 250 × 40.00
    assert lines["contentLicensing"]["amount"] == "1250.00"  # 250 × 5.00
    assert lines["managedServices"]["amount"] == "2000.00"
    assert (lines["volumeDiscount"]["percent"], lines["volumeDiscount"]["amount"]) == ("5.00", "-562.50")
    assert "250 seats is in the 200–499 band" in lines["volumeDiscount"]["explanation"]
    assert lines["commitmentAccelerator"]["marginPoints"] == "2.00"  # 3 years: 1 point per year after the first
    assert lines["performanceEscalator"]["marginPoints"] == "3.00"  # green
    # 27 + 2 + 3 = 32 % asked, above the Preferred band's 30 %: clamped, and said so
    assert (lines["partnerMargin"]["percent"], lines["partnerMargin"]["amount"]) == ("30.00", "3806.25")
    assert "32.00 % asked, clamped to the Preferred band 20.00–30.00 % (above its ceiling)" in \
        lines["partnerMargin"]["explanation"]
    assert doc["totals"] == {
        "annualListPrice": "13250.00", "annualVolumeDiscount": "-562.50", "annualCustomerPrice": "12687.50",
        "termYears": 3, "contractValue": "38062.50", "marginPercent": "30.00", "marginAskedPercent": "32.00",
        "clamped": True, "annualPartnerMargin": "3806.25", "partnerMarginTotal": "11418.75",
        "annualVendorNet": "8881.25", "vendorNetTotal": "26643.75"}
    assert doc["explanation"] == [line["explanation"] for line in doc["lines"]] and len(doc["explanation"]) == 7


def test_a_margin_below_the_band_is_raised_to_its_floor(api: Any, partner: dict[str, Any]) -> None:
    _assign(api, partner["id"], "preferred")
    body = {**WORKED, "requestedMarginPercent": "5", "termYears": 1, "performanceRating": "red"}
    doc = api.json(_quote(api, partner["id"], partner["admin"], body))
    assert doc["totals"]["marginPercent"] == "20.00" and doc["totals"]["clamped"] is True
    assert "(below its floor)" in _lines(doc)["partnerMargin"]["explanation"]


def test_a_partner_without_a_tier_is_in_the_first_and_gets_its_floor(api: Any, partner: dict[str, Any]) -> None:
    doc = api.json(_quote(api, partner["id"], partner["admin"], {"seats": 10, "listPricePerSeat": "50"}))
    assert doc["tier"]["id"] == "registered"
    assert doc["totals"]["marginPercent"] == "10.00" and doc["totals"]["clamped"] is False
    assert doc["totals"]["annualCustomerPrice"] == "500.00" and doc["totals"]["annualPartnerMargin"] == "50.00"
    assert "10.00 % base (the band's floor)" in _lines(doc)["partnerMargin"]["explanation"]


def test_rounding_is_to_cents_half_up_per_line() -> None:
    body = CreateQuote.model_validate({"seats": 101, "listPricePerSeat": "19.99", "requestedMarginPercent": "12.5"})
    doc = quotes.calculate(body, tiers.DEFAULT_TIERS[0])
    lines = _lines(doc)
    assert lines["listPrice"]["amount"] == "2018.99"
    assert lines["volumeDiscount"]["amount"] == "-60.57"  # 3 % of 2018.99 = 60.5697
    assert doc["totals"]["annualCustomerPrice"] == "1958.42"
    assert lines["partnerMargin"]["amount"] == "244.80"  # 12.5 % of 1958.42 = 244.8025
    assert Decimal(doc["totals"]["annualVendorNet"]) + Decimal("244.80") == Decimal("1958.42")


def test_operator_tiers_change_the_quote(api: Any, partner: dict[str, Any]) -> None:
    _assign(api, partner["id"], "preferred")
    custom = [{**t, "marginBand": {"min": "25", "max": "35"}} if t["id"] == "preferred" else t
              for t in tiers.DEFAULT_TIERS]
    put = api.call("PUT", TIERS, api.operator, {"tiers": custom})
    assert put.status_code == 200, put.body
    assert api.json(put)["source"] == "operator" and api.json(put)["version"] == 1
    doc = api.json(_quote(api, partner["id"], partner["admin"], WORKED))
    assert doc["totals"]["marginPercent"] == "32.00" and doc["totals"]["clamped"] is False  # within 25–35
    assert doc["totals"]["annualPartnerMargin"] == "4060.00"  # 32 % of 12687.50
    learner = api.user_token(partner["id"], ["learner"])[1]
    read = api.json(api.call("GET", TIERS, learner))  # any authenticated caller reads the tiers
    assert read["tiers"][1]["marginBand"] == {"min": "25.00", "max": "35.00"}


def test_operator_pricing_terms_change_the_quote_and_stay_until_replaced(api: Any, partner: dict[str, Any]) -> None:
    _assign(api, partner["id"], "preferred")
    pricing = {"volumeBands": [{"fromSeats": 1, "percent": "0"}, {"fromSeats": 50, "percent": "4"},
                               {"fromSeats": 300, "percent": "12"}],
               "acceleratorPointsPerYear": "0.5", "acceleratorMaxPoints": "1",
               "escalatorPoints": {"green": "2", "amber": "0.5", "red": "0"}}
    put = api.call("PUT", TIERS, api.operator, {"tiers": tiers.DEFAULT_TIERS, "pricing": pricing})
    assert put.status_code == 200, put.body
    assert api.json(put)["pricing"]["volumeBands"][1] == {"fromSeats": 50, "percent": "4.00"}
    lines = _lines(api.json(_quote(api, partner["id"], partner["admin"], WORKED)))
    assert lines["volumeDiscount"]["amount"] == "-450.00" and "50–299 band" in lines["volumeDiscount"]["explanation"]
    assert lines["commitmentAccelerator"]["marginPoints"] == "1.00"  # 0.5 × 2 years, at most 1
    assert lines["performanceEscalator"]["marginPoints"] == "2.00"
    assert lines["partnerMargin"]["percent"] == "30.00"  # 27 + 1 + 2 = 30: the top of the Preferred band
    # a later PUT of the tiers alone keeps the pricing
    again = api.call("PUT", TIERS, api.operator, {"tiers": tiers.DEFAULT_TIERS})
    assert api.json(again)["pricing"]["acceleratorMaxPoints"] == "1.00" and api.json(again)["version"] == 2


@pytest.mark.parametrize(("pricing", "field"), [
    ({"volumeBands": [{"fromSeats": 5, "percent": "0"}]}, "pricing.volumeBands.0.fromSeats"),
    ({"volumeBands": [{"fromSeats": 1, "percent": "0"}, {"fromSeats": 1, "percent": "3"}]},
     "pricing.volumeBands.1.fromSeats"),
    ({"acceleratorPointsPerYear": "2", "acceleratorMaxPoints": "1"}, "pricing.acceleratorMaxPoints"),
    ({"escalatorPoints": {"green": "30", "amber": "1", "red": "0"}}, "pricing.escalatorPoints.green"),
])
def test_invalid_pricing_is_400_naming_the_field(api: Any, pricing: dict[str, Any], field: str) -> None:
    body = {**tiers.DEFAULT_PRICING, **pricing}
    resp = api.call("PUT", TIERS, api.operator, {"tiers": tiers.DEFAULT_TIERS, "pricing": body})
    assert resp.status_code == 400, resp.body
    assert field in {e["field"] for e in api.json(resp)["errors"]}
    assert api.json(api.call("GET", TIERS, api.operator))["source"] == "default"  # nothing written


@pytest.mark.parametrize(("change", "field"), [
    (lambda ts: ts[0].update(marginBand={"min": "30", "max": "20"}), "tiers.0.marginBand.min"),
    (lambda ts: ts[1].update(name="registered"), "tiers.1.name"),
    (lambda ts: ts[2].update(id="preferred"), "tiers.2.id"),
    (lambda ts: ts[0].update(marginBand={"min": "10", "max": "120"}), "tiers.0.marginBand.max"),
    (lambda ts: ts[0].update(marginBand={"min": "-1", "max": "20"}), "tiers.0.marginBand.min"),
])
def test_invalid_tiers_are_400_naming_the_field(api: Any, change: Any, field: str) -> None:
    body = [dict(t) for t in tiers.DEFAULT_TIERS]
    change(body)
    resp = api.call("PUT", TIERS, api.operator, {"tiers": body})
    assert resp.status_code == 400, resp.body
    assert field in {e["field"] for e in api.json(resp)["errors"]}
    assert api.json(api.call("GET", TIERS, api.operator))["source"] == "default"  # nothing written


def test_only_the_operator_configures_tiers_and_assigns_them(api: Any, partner: dict[str, Any]) -> None:
    assert api.call("PUT", TIERS, partner["admin"], {"tiers": tiers.DEFAULT_TIERS}).status_code == 403
    assert api.call("PUT", f"/v1/partners/{partner['id']}/tier", partner["admin"],
                    {"tier": "strategic"}).status_code == 403
    unknown = _assign(api, partner["id"], "platinum")
    assert unknown.status_code == 400 and api.json(unknown)["errors"][0]["field"] == "tier"
    customer = api.make_tenant(parentTenantId=partner["id"])
    assert _assign(api, customer["id"], "strategic").status_code == 404  # not a partner
    assert api.json(api.call("GET", f"/v1/tenants/{partner['id']}", api.operator))["settings"].get(
        "partnerTier") is None


@pytest.mark.parametrize(("body", "field"), [
    ({"seats": 0, "listPricePerSeat": "40"}, "seats"),
    ({"seats": 10, "listPricePerSeat": "40.001"}, "listPricePerSeat"),
    ({"seats": 10, "listPricePerSeat": "40", "termYears": 9}, "termYears"),
    ({"seats": 10, "listPricePerSeat": "40", "requestedMarginPercent": "101"}, "requestedMarginPercent"),
    ({"seats": 10, "listPricePerSeat": "40", "performanceRating": "purple"}, "performanceRating"),
    ({"seats": 10}, "listPricePerSeat"),
])
def test_invalid_quotes_are_400_naming_the_field(api: Any, partner: dict[str, Any], body: Any, field: str) -> None:
    resp = _quote(api, partner["id"], partner["admin"], body)
    assert resp.status_code == 400, resp.body
    assert field in {e["field"] for e in api.json(resp)["errors"]}


def test_who_may_quote_for_a_partner(api: Any, partner: dict[str, Any]) -> None:
    customer = api.make_tenant(parentTenantId=partner["id"])
    body = {"seats": 10, "listPricePerSeat": "40"}
    assert _quote(api, partner["id"], api.tenant_admin(customer["id"]), body).status_code == 404
    rival = api.make_tenant(template="reseller")
    assert _quote(api, partner["id"], api.tenant_admin(rival["id"]), body).status_code == 404
    assert _quote(api, customer["id"], partner["admin"], body).status_code == 404  # a customer is no partner
    assert _quote(api, partner["id"], api.user_token(partner["id"], ["learner"])[1], body).status_code == 403
    assert _quote(api, partner["id"], api.operator, body).status_code == 200


def test_a_quote_is_one_read_and_no_write(api: Any, partner: dict[str, Any]) -> None:
    _quote(api, partner["id"], partner["admin"], WORKED)  # tenant cache warm
    with counting() as calls:
        assert _quote(api, partner["id"], partner["admin"], WORKED).status_code == 200
    assert calls.dynamodb == {"BatchGetItem": 1}


def test_two_operators_changing_the_tiers_from_the_same_version_one_wins(api: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Operator settings are replaced conditional on the version read (store.tx.replace_versioned): the second
    writer, which read the same version, gets a 409 and its change is not written."""
    from chalicelib.auth.principal import Principal
    from chalicelib.errors import Conflict

    operator = Principal(subject="op", tenant_id=None, roles=frozenset({"operator"}), scopes=frozenset())
    body = lambda low: PartnerTiers.model_validate(  # noqa: E731 - a body per operator
        {"tiers": [{**t, "marginBand": {"min": low, "max": "40"}} for t in tiers.DEFAULT_TIERS]})
    first = tiers.load_config()
    assert tiers.put_tiers(operator, body("11"))["version"] == 1
    with monkeypatch.context() as patch, pytest.raises(Conflict):
        patch.setattr(tiers, "load_config", lambda: first)  # the second operator read before the first wrote
        tiers.put_tiers(operator, body("12"))
    stored = api.json(api.call("GET", TIERS, api.operator))
    assert stored["version"] == 1 and stored["tiers"][0]["marginBand"]["min"] == "11.00"
