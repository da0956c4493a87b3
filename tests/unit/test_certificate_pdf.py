"""Certificate PDFs (fpdf2 + segno) and public verification: the rendered file, the download route's row rules and
storage, the verification JSON and the branded HTML page in Chromium."""

from __future__ import annotations

import base64
import io
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.certification import pdf
from tests.unit.callcount import counting
from tests.unit.cert_helpers import UNICODE_NAME, make_certificate, revoke, stored_pdf

PURPLE, GREEN = "#7c3aed", "#10b981"
BRAND = {"displayName": "Acme Sales", "primaryColor": PURPLE, "accentColor": GREEN, "textColor": "#1f2937",
         "font": "Times"}
CERT = {"id": "ce-01kc3z9x8y7w6v5t4s3r2q1p0n", "learnerName": UNICODE_NAME, "programName": "Certified Closer — L2",
        "issuedAt": "2026-11-23T10:00:00.000Z", "expiresAt": "2027-11-23", "status": "active",
        "completed": [{"courseId": "co-1", "title": "Closing Techniques", "version": 3}]}
VERIFY_URL = "https://learn.example.com/verify/ce-01kc3z9x8y7w6v5t4s3r2q1p0n"
PUBLIC_FIELDS = {"status", "program", "learnerName", "issuer", "issuedOn", "expiresOn"}


def _text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return str(reader.pages[0].extract_text())


def _image(data: bytes) -> Any:
    import pypdfium2

    return pypdfium2.PdfDocument(data)[0].render(scale=2).to_pil().convert("RGB")


def _share(image: Any, colour: str) -> float:
    wanted = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    counts = Counter(image.getdata())
    near = sum(n for px, n in counts.items() if all(abs(a - b) <= 6 for a, b in zip(px, wanted, strict=True)))
    return near / (image.width * image.height)


# --- the rendered file ---------------------------------------------------------------------------------

def test_the_pdf_opens_and_carries_the_name_program_version_dates_and_id() -> None:
    data = pdf.render(CERT, BRAND, VERIFY_URL)
    assert data.startswith(b"%PDF-") and len(data) < 100_000
    text = _text(data)
    for expected in (UNICODE_NAME, "Certified Closer — L2", "Closing Techniques (version 3)", CERT["id"],
                     "23 November 2026", "23 November 2027", "Acme Sales", VERIFY_URL):
        assert expected in text, (expected, text)
    assert "REVOKED" not in text
    assert pdf.render(CERT, BRAND, VERIFY_URL) == data  # the same certificate renders to the same bytes


def test_the_first_page_shows_the_brand_colours_and_a_qr_code_of_the_verification_url() -> None:
    import zxingcpp

    image = _image(pdf.render(CERT, BRAND, VERIFY_URL))
    assert _share(image, PURPLE) > 0.10  # the primary-colour frame
    assert _share(image, GREEN) > 0.002  # the accent rules
    other = _image(pdf.render(CERT, {**BRAND, "primaryColor": "#0f766e"}, VERIFY_URL))
    assert _share(other, PURPLE) < 0.01 and _share(other, "#0f766e") > 0.10
    codes = [c.text for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert codes == [VERIFY_URL]


def test_a_revoked_certificate_is_stamped() -> None:
    assert "REVOKED" in _text(pdf.render({**CERT, "status": "revoked"}, BRAND, VERIFY_URL))


def test_no_expiry_and_long_names_still_fit_one_page() -> None:
    text = _text(pdf.render({**CERT, "expiresAt": None, "learnerName": "Ñ" * 90}, BRAND, VERIFY_URL))
    assert "Does not expire" in text and "Ñ" * 90 in text


def _png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, format="PNG")
    return out.getvalue()


def test_the_logo_replaces_the_wordmark_and_a_bad_one_falls_back_to_it() -> None:
    from pypdf import PdfReader

    with_logo = pdf.render(CERT, BRAND, VERIFY_URL, logo=_png((250, 0, 0)))
    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1
    assert "Acme Sales" not in _text(with_logo)
    assert _share(_image(with_logo), "#fa0000") > 0.005
    broken = pdf.render(CERT, BRAND, VERIFY_URL, logo=b"<svg not really")
    assert "Acme Sales" in _text(broken)


def test_data_urls_give_image_bytes_only() -> None:
    png = _png((0, 0, 255))
    assert pdf.data_url_image("data:image/png;base64," + base64.b64encode(png).decode()) == png
    assert pdf.data_url_image("data:text/html;base64," + base64.b64encode(b"<b>").decode()) is None
    assert pdf.data_url_image("data:image/png;base64,@@@") is None
    assert pdf.data_url_image("https://example.com/logo.png") is None


# --- the download route --------------------------------------------------------------------------------

@pytest.fixture()
def people(api: Any) -> dict[str, Any]:
    tenant = api.make_tenant(branding={"displayName": "Acme Sales", "primaryColor": PURPLE, "accentColor": GREEN})
    tid = tenant["id"]
    manager, manager_token = api.user_token(tid, ["manager"])
    learner, learner_token = api.user_token(tid, ["learner"], managerId=manager["id"])
    _, other_token = api.user_token(tid, ["learner"])
    _, other_manager_token = api.user_token(tid, ["manager"])
    cert = make_certificate(tid, learner["id"])
    return {"tenant": tenant, "tid": tid, "learner": learner, "cert": cert, "admin": api.tenant_admin(tid),
            "learner_token": learner_token, "manager_token": manager_token, "other_token": other_token,
            "other_manager_token": other_manager_token,
            "path": f"/v1/tenants/{tid}/certificates/{cert.id}/pdf"}


def test_the_learner_their_manager_and_admins_get_the_pdf_others_a_404(api: Any, people: dict[str, Any]) -> None:
    for who in ("learner_token", "manager_token", "admin"):
        resp = api.call("GET", people["path"], people[who])
        assert resp.status_code == 302, (who, resp.body)
        assert resp.headers["Cache-Control"] == "no-store"
    for who in ("other_token", "other_manager_token"):
        resp = api.call("GET", people["path"], people[who])
        assert resp.status_code == 404, (who, resp.body)
        assert people["learner"]["id"] not in str(resp.body) and "Location" not in resp.headers
    unknown = f"/v1/tenants/{people['tid']}/certificates/ce-00000000000000000000000000/pdf"
    assert api.call("GET", unknown, people["admin"]).status_code == 404
    assert api.call("GET", people["path"] + "?redirect=maybe", people["admin"]).status_code == 400


def test_the_pdf_is_rendered_once_stored_and_handed_out_by_a_presigned_url(api: Any, people: dict[str, Any]) -> None:
    tid, cert = people["tid"], people["cert"]
    with counting() as first:
        resp = api.call("GET", people["path"], people["learner_token"])
    location = urlsplit(resp.headers["Location"])
    key, data = stored_pdf(tid, cert.id)
    assert location.path.endswith("/" + key) and key.endswith("-v1.pdf")
    query = parse_qs(location.query)
    assert query["response-content-type"] == ["application/pdf"]
    if "X-Amz-Signature" in query:  # SigV4
        assert query["X-Amz-Expires"] == ["300"]
    else:  # SigV2 query auth (botocore's default for S3 here): an absolute expiry
        assert "Signature" in query and 0 < int(query["Expires"][0]) - time.time() <= 300
    text = _text(data)
    assert UNICODE_NAME in text and cert.id in text and "version 3" in text and f"/verify/{cert.id}" in text
    assert first.of("s3") == Counter({"PutObject": 1, "GetObject": 1})  # the tenant's logo, then the PDF
    with counting() as again:
        resp = api.call("GET", people["path"] + "?redirect=false", people["learner_token"])
    assert resp.status_code == 200 and api.json(resp)["expiresIn"] == 300
    assert urlsplit(api.json(resp)["url"]).path.endswith("/" + key)
    assert again.dynamodb == Counter({"GetItem": 1}) and not again.of("s3")  # stored: only signed


def test_a_revoked_certificate_renders_again_with_the_stamp(api: Any, people: dict[str, Any]) -> None:
    tid, cert = people["tid"], people["cert"]
    api.call("GET", people["path"], people["admin"])
    revoke(tid, cert.id)
    resp = api.call("GET", people["path"], people["learner_token"])
    key, data = stored_pdf(tid, cert.id)
    assert key.endswith("-v2.pdf") and urlsplit(resp.headers["Location"]).path.endswith("/" + key)
    assert "REVOKED" in _text(data)


# --- verification ----------------------------------------------------------------------------------------

def _verify(api: Any, cert_id: str) -> Any:
    return api.call("GET", f"/v1/verify/{cert_id}")


def test_verification_says_valid_expired_or_revoked_with_public_fields_only(api: Any, people: dict[str, Any]) -> None:
    tid, learner = people["tid"], people["learner"]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    valid = people["cert"]
    expired = make_certificate(tid, learner["id"], expires_at=yesterday)
    marked = make_certificate(tid, learner["id"], status="expired")
    revoked = make_certificate(tid, learner["id"])
    revoke(tid, revoked.id)
    never = make_certificate(tid, learner["id"], expires_at=None)
    for cert, status in ((valid, "valid"), (expired, "expired"), (marked, "expired"), (revoked, "revoked"),
                         (never, "valid")):
        with counting() as calls:
            resp = _verify(api, cert.id)
        assert resp.status_code == 200, resp.body
        doc = api.json(resp)
        assert set(doc) == PUBLIC_FIELDS and doc["status"] == status, doc
        assert doc["learnerName"] == UNICODE_NAME and doc["issuer"] == "Acme Sales"
        assert doc["program"] == "Certified Closer — Level 2" and doc["issuedOn"] == cert.issued_at[:10]
        assert doc["expiresOn"] == cert.expires_at
        for private in (learner["id"], learner["email"], tid, people["tenant"]["name"], "cp-closing"):
            assert private not in resp.body.decode(), private
        assert resp.headers["Cache-Control"] == "public, max-age=60"
        assert calls.dynamodb == Counter({"GetItem": 1, "BatchGetItem": 1})


def test_unknown_and_malformed_ids_are_404s(api: Any, people: dict[str, Any]) -> None:
    assert _verify(api, "ce-00000000000000000000000000").status_code == 404
    for bad in ("CE-UPPER", "x" * 65, "ce-1%23CERT"):
        with counting() as calls:
            resp = _verify(api, bad)
        assert resp.status_code == 404, (bad, resp.body)
        assert not calls.dynamodb, bad
    # a certificate id whose locator points at a tenant without that certificate is still a 404
    from chalicelib.store import keys
    from chalicelib.store.models import CertificateLocator

    CertificateLocator(PK=keys.cert_id_pk("ce-orphan"), SK=keys.CERT_ID_SK, tenant_id=people["tid"]).save()
    assert _verify(api, "ce-orphan").status_code == 404


def test_the_html_page_uses_the_brand_and_escapes_everything(api: Any, people: dict[str, Any]) -> None:
    cert = make_certificate(people["tid"], people["learner"]["id"], learner_name="<script>alert(1)</script> Zoë")
    resp = api.call("GET", f"/verify/{cert.id}")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    html = resp.body.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Zoë" in html and "<script>" not in html
    assert f"--primary: {PURPLE}" in html and "Valid" in html and people["learner"]["email"] not in html
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    missing = api.call("GET", "/verify/ce-00000000000000000000000000")
    assert missing.status_code == 404 and "Not found" in missing.body.decode()


@pytest.mark.browser
def test_the_verification_page_shows_valid_in_chromium(api: Any, people: dict[str, Any], browser: Any) -> None:
    revoked = make_certificate(people["tid"], people["learner"]["id"])
    revoke(people["tid"], revoked.id)
    page = browser.new_page()
    try:
        for cert_id, label in ((people["cert"].id, "Valid"), (revoked.id, "Revoked")):
            page.set_content(api.call("GET", f"/verify/{cert_id}").body.decode())
            status = page.get_by_test_id("certificate-status")
            assert status.inner_text() == label
            assert page.get_by_test_id("learner-name").inner_text() == UNICODE_NAME
            frame = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert frame == "rgb(124, 58, 237)"  # the tenant's primary colour
    finally:
        page.close()
