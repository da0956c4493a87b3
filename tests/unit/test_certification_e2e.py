"""The certification cycle end to end, as the issue's test asks: complete the required course -> one
certificate; its PDF opens in the tenant's brand with the content version; verification says valid; the
reminder job as of 90, 60 and 30 days before and on the expiry day -> three emails, each once, then expiry
and a recertification enrollment; completing that issues the next cycle's certificate."""

from __future__ import annotations

from datetime import date, timedelta

from tests.unit.cert_helpers import stored_pdf
from tests.unit.test_certificate_pdf import PURPLE, _image, _share, _text
from tests.unit.test_certification_reminders import run, sent_to
from tests.unit.test_certifications import _certificates, _enroll, _issued, world  # noqa: F401 - fixture
from tests.unit.test_paths import _complete


def test_issue_pdf_verify_remind_expire_recertify(api, world):  # noqa: F811 - the imported fixture
    t = world["t"]
    api.call("PATCH", f"/v1/tenants/{t}", world["admin"], {"branding": {"displayName": "Acme Sales Academy",
                                                                         "primaryColor": PURPLE}})
    program, stream = _issued(api, world)
    [cert] = _certificates(api, world, world["learner"]["id"])
    assert (cert["status"], cert["cycle"], cert["certificationId"]) == ("active", 1, program["id"])
    assert [c["version"] for c in cert["completed"]] == [1]

    resp = api.call("GET", f"/v1/tenants/{t}/certificates/{cert['id']}/pdf?redirect=false", world["token"])
    assert resp.status_code == 200, resp.body
    _key, data = stored_pdf(t, cert["id"])
    text = _text(data)
    assert "Acme Sales Academy" in text and "version 1" in text and cert["id"] in text
    assert _share(_image(data), PURPLE) > 0.10  # the brand's frame, rendered to pixels

    verified = api.json(api.client.http.get(f"/v1/verify/{cert['id']}"))
    assert verified["status"] == "valid" and "userId" not in verified and "email" not in verified

    expires = date.fromisoformat(cert["expiresAt"])
    email = world["learner"]["email"]
    for days in (90, 60, 30, 0):
        for _ in range(2):  # the same day twice: nothing is sent twice
            run((expires - timedelta(days=days)).isoformat())
    assert len(sent_to(email)) == 3
    [expired] = _certificates(api, world, world["learner"]["id"])
    assert expired["status"] == "recertifying"
    enrollments = api.json(api.call("GET", f"/v1/tenants/{t}/users/{world['learner']['id']}/enrollments",
                                    world["admin"]))["items"]
    [recert] = [e for e in enrollments if e["source"] == "recertification"]
    assert recert["courseId"] == world["courses"][1]
    expired_now = api.json(api.client.http.get(f"/v1/verify/{cert['id']}"))
    assert expired_now["status"] == "expired"

    _complete(api, world, recert["id"])
    stream.drain()
    stream.drain()
    certs = {c["cycle"]: c for c in _certificates(api, world, world["learner"]["id"])}
    assert certs[2]["status"] == "active" and certs[1]["status"] == "renewed"
    assert api.json(api.client.http.get(f"/v1/verify/{certs[2]['id']}"))["status"] == "valid"
