"""Statement attachments (multipart/mixed, S3), GET ?attachments=true, signed statements (JWS), and statements
and documents too large for DynamoDB items (S3 pointers)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
from email import policy
from email.parser import BytesParser
from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.callcount import counting
from tests.unit.lrs_helpers import VERSION, basic, make_lrs, new_id, statement

BOUNDARY = "-------314159265358979323846"
MIXED = f"multipart/mixed; boundary={BOUNDARY}"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
# every byte value, and the line endings a MIME parser could be tempted to normalise
DATA = bytes(range(256)) + b"\r\n\r\n--\n\r" + os.urandom(2048) + b"\r\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment(data: bytes, content_type: str = "application/octet-stream", **extra: Any) -> dict[str, Any]:
    return {"usageType": "http://example.com/attachment-usage/test", "display": {"en-US": "A test attachment"},
            "contentType": content_type, "length": len(data), "sha2": sha(data), **extra}


def part(data: bytes, content_type: str = "application/octet-stream", *, hash_: str | None = None,
         encoding: str | None = "binary") -> bytes:
    head = f"Content-Type: {content_type}\r\n"
    head += f"Content-Transfer-Encoding: {encoding}\r\n" if encoding else ""
    head += f"X-Experience-API-Hash: {hash_ if hash_ is not None else sha(data)}\r\n" if hash_ != "" else ""
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + data + b"\r\n"


def mixed(statements: Any, *parts: bytes, first_type: str = "application/json") -> bytes:
    first = f"--{BOUNDARY}\r\nContent-Type: {first_type}\r\n\r\n".encode() + json.dumps(statements).encode()
    return first + b"\r\n" + b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def send(lrs: Any, method: str, path: str, body: bytes, content_type: str = MIXED) -> Any:
    return lrs.request(method, path, raw=body, headers={"Content-Type": content_type})


def parse(resp: Any) -> tuple[Any, list[Any]]:
    assert resp.headers["Content-Type"].startswith("multipart/mixed"), resp.headers
    head = f"Content-Type: {resp.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + resp.body)
    assert message.is_multipart() and not message.defects
    first, *rest = message.get_payload()
    assert first.get_content_type() == "application/json"
    return json.loads(first.get_payload(decode=True)), rest


# --- storing and reading back --------------------------------------------------------------------------

def test_put_multipart_then_get_attachments_true_round_trips_the_bytes(lrs: Any) -> None:
    sid = new_id()
    doc = statement(attachments=[attachment(DATA, "image/png")])
    assert send(lrs, "PUT", f"/statements?statementId={sid}", mixed(doc, part(DATA, "image/png"))).status_code == 204
    resp = lrs.request("GET", f"/statements?statementId={sid}&attachments=true", headers={"Accept": "multipart/mixed"})
    assert resp.status_code == 200, resp.body
    got, parts = parse(resp)
    assert got["id"] == sid and got["attachments"][0]["sha2"] == sha(DATA)
    assert len(parts) == 1 and parts[0].get_payload(decode=True) == DATA
    assert parts[0]["X-Experience-API-Hash"] == sha(DATA) and parts[0]["Content-Transfer-Encoding"] == "binary"
    assert parts[0].get_content_type() == "image/png"
    plain = lrs.request("GET", f"/statements?statementId={sid}&attachments=false")
    assert plain.headers["Content-Type"] == "application/json" and json.loads(plain.body)["id"] == sid


def test_a_batch_sends_shared_data_once_stores_it_once_and_a_result_lists_it_once(lrs: Any) -> None:
    other = b"second attachment"
    bare = {"objectType": "Activity", "id": "http://example.com/courses/bare"}  # no definition to merge
    batch = [statement(object=bare, attachments=[attachment(DATA)]),
             statement(object=bare, attachments=[attachment(DATA), attachment(other)])]
    lrs.request("GET", "/statements?limit=1")  # the credential is now cached, as in a warm container
    with counting() as calls:
        resp = send(lrs, "POST", "/statements", mixed(batch, part(DATA), part(other, "text/plain")))
    assert resp.status_code == 200, resp.body
    assert calls.dynamodb == {"TransactWriteItems": 1}  # data goes to S3, the batch is one transaction
    assert calls.of("s3") == {"PutObject": 2}  # one per distinct attachment
    resp = lrs.request("GET", "/statements?attachments=true", headers={"Accept": "multipart/mixed"})
    result, parts = parse(resp)
    assert len(result["statements"]) == 2 and "more" in result
    assert sorted(p.get_payload(decode=True) for p in parts) == sorted([DATA, other])


def test_get_attachments_true_needs_an_accept_api_gateway_can_answer_in_bytes(lrs: Any) -> None:
    sid = new_id()
    send(lrs, "PUT", f"/statements?statementId={sid}", mixed(statement(attachments=[attachment(DATA)]), part(DATA)))
    assert lrs.request("GET", f"/statements?statementId={sid}&attachments=true").status_code == 406
    star = lrs.request("GET", f"/statements?statementId={sid}&attachments=true", headers={"Accept": "*/*"})
    assert star.status_code == 200 and parse(star)[1][0].get_payload(decode=True) == DATA
    head = lrs.request("HEAD", f"/statements?statementId={sid}&attachments=true", headers={"Accept": "*/*"})
    assert head.status_code == 200 and head.body in (b"", "")


# UTF-8 everywhere a MIME parser or a text transport could touch: CRLF, a bare LF, a lone dash line, non-ASCII
TEXT = "Certificate of completion \u2713 caf\u00e9\r\n\r\n--\nline two\r\n".encode()


def _raw(lrs: Any, method: str, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The Lambda proxy response itself (what API Gateway gets), not the test client's decoded bytes."""
    hdrs = {"Authorization": basic(lrs.key, lrs.secret), **VERSION, **(headers or {})}
    out: dict[str, Any] = lrs.api.client.http._local_gateway.handle_request(
        method=method, path=lrs.base + path, headers=hdrs, body=b"")
    return out


def test_without_a_binary_accept_utf8_answers_go_out_as_text_byte_exact(lrs: Any) -> None:
    """The conformance suite sends no Accept: API Gateway passes a text body through unchanged."""
    sid = new_id()
    doc = statement(attachments=[attachment(TEXT, "text/plain")])
    assert send(lrs, "PUT", f"/statements?statementId={sid}", mixed(doc, part(TEXT, "text/plain"))).status_code == 204
    for accept in ({}, {"Accept": "application/json"}):
        resp = lrs.request("GET", f"/statements?statementId={sid}&attachments=true", headers=accept)
        assert resp.status_code == 200, resp.body
        got, parts = parse(resp)
        assert got["id"] == sid and [p.get_payload(decode=True) for p in parts] == [TEXT]
        raw = _raw(lrs, "GET", f"/statements?statementId={sid}&attachments=true", accept)
        assert raw["statusCode"] == 200 and not raw.get("isBase64Encoded")
        assert isinstance(raw["body"], str)  # parsed from the UTF-8 of the text API Gateway passes on
        as_sent = parse(SimpleNamespace(headers=raw["headers"], body=raw["body"].encode()))
        assert as_sent[0] == got and [p.get_payload(decode=True) for p in as_sent[1]] == [TEXT]
    page = lrs.request("GET", "/statements?attachments=true&limit=5")  # a StatementResult, same rule
    result, parts = parse(page)
    assert page.status_code == 200 and [s["id"] for s in result["statements"]] == [sid]
    assert [p.get_payload(decode=True) for p in parts] == [TEXT]
    head = lrs.request("HEAD", f"/statements?statementId={sid}&attachments=true")
    assert head.status_code == 200 and head.body == b""


def test_a_binary_accept_gets_the_bytes_base64_for_api_gateway_to_decode(lrs: Any) -> None:
    sid = new_id()
    doc = statement(attachments=[attachment(TEXT, "text/plain")])
    send(lrs, "PUT", f"/statements?statementId={sid}", mixed(doc, part(TEXT, "text/plain")))
    raw = _raw(lrs, "GET", f"/statements?statementId={sid}&attachments=true", {"Accept": "multipart/mixed"})
    assert raw["statusCode"] == 200 and raw["isBase64Encoded"] is True
    assert raw["headers"]["Content-Type"].startswith("multipart/mixed")
    _, parts = parse(lrs.request("GET", f"/statements?statementId={sid}&attachments=true",
                                 headers={"Accept": "multipart/mixed"}))
    assert [p.get_payload(decode=True) for p in parts] == [TEXT]


def test_non_utf8_data_without_a_binary_accept_is_406_naming_the_header(lrs: Any) -> None:
    sid = new_id()
    doc = statement(attachments=[attachment(TEXT, "text/plain"), attachment(DATA)])
    send(lrs, "PUT", f"/statements?statementId={sid}", mixed(doc, part(TEXT, "text/plain"), part(DATA)))
    for accept in ({}, {"Accept": "application/json"}, {"Accept": "application/json, multipart/mixed"}):
        resp = lrs.request("GET", f"/statements?statementId={sid}&attachments=true", headers=accept)
        assert resp.status_code == 406, (accept, resp.body)
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert "Accept: multipart/mixed" in json.loads(resp.body)["detail"]
    _, parts = parse(lrs.request("GET", f"/statements?statementId={sid}&attachments=true",
                                 headers={"Accept": "multipart/mixed"}))
    assert sorted(p.get_payload(decode=True) for p in parts) == sorted([TEXT, DATA])


def test_file_url_attachments_need_no_part_in_either_format(lrs: Any) -> None:
    hosted = attachment(b"elsewhere", fileUrl="https://example.com/certificate.pdf")
    assert lrs.request("POST", "/statements", statement(attachments=[hosted])).status_code == 200
    resp = send(lrs, "POST", "/statements", mixed(statement(attachments=[hosted])))
    assert resp.status_code == 200, resp.body
    got, parts = parse(lrs.request("GET", f"/statements?statementId={json.loads(resp.body)[0]}&attachments=true",
                                   headers={"Accept": "multipart/mixed"}))
    assert got["attachments"] == [hosted] and parts == []


def test_another_tenant_naming_the_same_sha2_does_not_get_the_data(api: Any, lrs: Any) -> None:
    send(lrs, "POST", "/statements", mixed(statement(attachments=[attachment(DATA)]), part(DATA)))
    other = make_lrs(api)
    claimed = attachment(DATA, fileUrl="https://example.com/x")  # same sha2, data never sent to this tenant
    sid = json.loads(other.request("POST", "/statements", statement(attachments=[claimed])).body)[0]
    _, parts = parse(other.request("GET", f"/statements?statementId={sid}&attachments=true",
                                   headers={"Accept": "multipart/mixed"}))
    assert parts == []


# --- the spec's rejections: 400, nothing stored --------------------------------------------------------

def _rejections() -> dict[str, tuple[Any, bytes, str]]:
    doc = statement(id="{sid}", attachments=[attachment(DATA)])
    wrong = b"not the declared data"
    return {
        "missing part": (doc, mixed(doc), MIXED),
        "part hash is not its data's": (doc, mixed(doc, part(wrong, hash_=sha(DATA))), MIXED),
        "part matches no attachment": (doc, mixed(doc, part(DATA), part(wrong)), MIXED),
        "json without fileUrl": (doc, json.dumps(doc).encode(), "application/json"),
        "no X-Experience-API-Hash": (doc, mixed(doc, part(DATA, hash_="")), MIXED),
        "base64 transfer encoding": (doc, mixed(doc, part(DATA, encoding="base64")), MIXED),
        "first part not json": (doc, mixed(doc, part(DATA), first_type="text/plain"), MIXED),
        "statements split over parts": (doc, mixed(doc, part(json.dumps(doc).encode(), "application/json",
                                                                  hash_="")), MIXED),
        "no boundary in the header": (doc, mixed(doc, part(DATA)), "multipart/mixed"),
        "another boundary in the body": (doc, mixed(doc, part(DATA)), "multipart/mixed; boundary=elsewhere"),
        "form data": (doc, mixed(doc, part(DATA)), f"multipart/form-data; boundary={BOUNDARY}"),
    }


@pytest.mark.parametrize("case", sorted(_rejections()))
def test_malformed_attachment_requests_are_400_and_store_nothing(lrs: Any, case: str) -> None:
    sid = new_id()
    _, body, content_type = _rejections()[case]
    resp = send(lrs, "POST", "/statements", body.replace(b"{sid}", sid.encode()), content_type)
    assert resp.status_code == 400, (case, resp.body)
    assert json.loads(resp.body)["status"] == 400
    assert lrs.request("GET", f"/statements?statementId={sid}").status_code == 404


# --- signed statements --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signer() -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Signer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    chain = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    return key, chain


def signed(payload: Any, key: Any, alg: str = "RS256", headers: dict[str, Any] | None = None,
           sent: dict[str, Any] | None = None, content_type: str = "application/octet-stream") -> bytes:
    """A POST body: the statement `sent` (default: the payload) with a JWS of `payload` attached."""
    import jwt

    token = jwt.api_jws.PyJWS().encode(json.dumps(payload).encode(), key, algorithm=alg, headers=headers)
    data = token.encode()
    doc = dict(sent if sent is not None else payload)
    doc["attachments"] = [{**attachment(data, content_type), "usageType": SIGNATURE}]
    return mixed(doc, part(data, content_type))


def test_signed_statements_with_each_rsa_algorithm_are_accepted(lrs: Any, signer: Any) -> None:
    key, chain = signer
    for alg, headers in (("RS256", {"x5c": chain}), ("RS384", None), ("RS512", {"x5c": chain})):
        doc = statement(id=new_id())
        resp = send(lrs, "POST", "/statements", signed(doc, key, alg, headers))
        assert resp.status_code == 200, (alg, resp.body)
        got, parts = parse(lrs.request("GET", f"/statements?statementId={doc['id']}&attachments=true",
                                       headers={"Accept": "multipart/mixed"}))
        assert got["attachments"][0]["usageType"] == SIGNATURE and len(parts) == 1


def test_a_signature_ignores_what_the_lrs_sets(lrs: Any, signer: Any) -> None:
    key, _ = signer
    doc = statement(timestamp="2026-01-02T03:04:05.000Z")  # no id: the LRS assigns it
    sent = {**doc, "timestamp": "2026-01-02T04:04:05+01:00", "authority": {"mbox": "mailto:a@example.com"}}
    assert send(lrs, "POST", "/statements", signed(doc, key, sent=sent)).status_code == 200


def _bad_signatures(key: Any, chain: list[str]) -> dict[str, bytes]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    doc = statement(id="{sid}")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    not_jws = mixed({**doc, "attachments": [{**attachment(b"not.a.jws"), "usageType": SIGNATURE}]},
                    part(b"not.a.jws"))
    return {
        "hmac algorithm": signed(doc, "a shared secret of enough length", "HS256"),
        "malformed jws": not_jws,
        "payload is another statement": signed(statement(verb={"id": "http://example.com/other"}), key, sent=doc),
        "payload is not json": signed("{'broken", key, sent=doc),
        "signed with another key than x5c's": signed(doc, stranger, headers={"x5c": chain}),
        "bad content type": signed(doc, key, content_type="text/plain"),
        "x5c is not a certificate": signed(doc, key, headers={"x5c": ["bm90IGEgY2VydA=="]}),
    }


@pytest.mark.parametrize("case", ["hmac algorithm", "malformed jws", "payload is another statement",
                                  "payload is not json", "signed with another key than x5c's", "bad content type",
                                  "x5c is not a certificate"])
def test_bad_signatures_are_400(lrs: Any, signer: Any, case: str) -> None:
    sid = new_id()
    body = _bad_signatures(*signer)[case].replace(b"{sid}", sid.encode())
    resp = send(lrs, "POST", "/statements", body)
    assert resp.status_code == 400, (case, resp.body)
    assert lrs.request("GET", f"/statements?statementId={sid}").status_code == 404


# --- values too large for DynamoDB items ---------------------------------------------------------------

def test_a_statement_over_400_kb_round_trips_through_s3(lrs: Any) -> None:
    sid = new_id()
    big = statement(result={"extensions": {"http://example.com/transcript": "x" * 450_000}})
    assert lrs.request("PUT", f"/statements?statementId={sid}", big).status_code == 204
    with counting() as calls:
        got = lrs.request("GET", f"/statements?statementId={sid}")
    assert got.status_code == 200 and calls.of("s3") == {"GetObject": 1}
    assert json.loads(got.body)["result"] == big["result"]
    listed = json.loads(lrs.request("GET", "/statements?agent=" + json.dumps(big["actor"])).body)["statements"]
    assert [s["id"] for s in listed] == [sid] and listed[0]["result"] == big["result"]
    assert lrs.request("PUT", f"/statements?statementId={sid}", big).status_code == 204  # same content: a no-op
    assert lrs.request("PUT", f"/statements?statementId={sid}", statement()).status_code == 409
    assert json.loads(lrs.request("GET", f"/statements?statementId={sid}").body)["result"] == big["result"]


def test_voiding_a_large_statement_hides_it(lrs: Any) -> None:
    sid = new_id()
    lrs.request("PUT", f"/statements?statementId={sid}", statement(result={"response": "y" * 100_000}))
    voiding = statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                        object={"objectType": "StatementRef", "id": sid})
    assert lrs.request("POST", "/statements", voiding).status_code == 200
    assert lrs.request("GET", f"/statements?statementId={sid}").status_code == 404
    assert lrs.request("GET", f"/statements?voidedStatementId={sid}").status_code == 200
    listed = json.loads(lrs.request("GET", "/statements").body)["statements"]
    assert sid not in [s["id"] for s in listed]


def test_a_document_over_400_kb_round_trips_and_merges(lrs: Any) -> None:
    query = ("/activities/state?activityId=http://example.com/a&stateId=s1&agent="
             + json.dumps({"mbox": "mailto:learner@example.com"}))
    content = {"notes": "z" * 420_000}
    put = lrs.request("PUT", query, content)
    assert put.status_code == 204, put.body
    got = lrs.request("GET", query)
    assert got.status_code == 200 and json.loads(got.body) == content and got.headers["ETag"] == put.headers["ETag"]
    assert lrs.request("POST", query, {"more": 1}).status_code == 204
    assert json.loads(lrs.request("GET", query).body) == {**content, "more": 1}
    raw = os.urandom(380_000)
    binary = lrs.request("PUT", query, raw=raw, headers={"Content-Type": "application/octet-stream"})
    assert binary.status_code == 204
    back = lrs.request("GET", query, headers={"Accept": "application/octet-stream"})
    assert back.status_code == 200 and back.body == raw
