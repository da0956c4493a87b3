"""Bulk user imports over the real app and moto: presigned upload -> S3 event on the uploads queue -> chunks
handed on through the same queue -> counts, error report, idempotent re-runs."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import boto3
import pytest

from chalicelib.config import settings

HEADER = "email,displayName,roles,salesRole,region,department,managerEmail,hireDate,externalId\n"


@pytest.fixture()
def tenant(api: Any) -> dict[str, Any]:
    made = api.make_tenant()
    return {"id": made["id"], "admin": api.tenant_admin(made["id"])}


def _queue_url() -> str:
    return str(boto3.client("sqs").get_queue_url(QueueName=settings().uploads_queue_name)["QueueUrl"])


def pump(api: Any, *, keep: list[dict[str, Any]] | None = None, limit: int = 10_000) -> int:
    """Feed the uploads queue to `on_package_uploaded` as Lambda would, until it is empty (or `limit`
    messages); invocations made. `keep` collects every message body delivered (to redeliver one later)."""
    sqs, url, invocations = boto3.client("sqs"), _queue_url(), 0
    while invocations < limit:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return invocations
        body = messages[0]["Body"]
        if keep is not None:
            keep.append(json.loads(body))
        event = api.client.events.generate_sqs_event(message_bodies=[body], queue_name="uploads")
        api.client.lambda_.invoke("on_package_uploaded", event)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        invocations += 1
    return invocations


def start(api: Any, tenant: dict[str, Any], data: bytes, name: str = "users.csv") -> dict[str, Any]:
    """POST an import, put the file where the presigned POST points (what the browser or CLI sends)."""
    base = f"/v1/tenants/{tenant['id']}/user-imports"
    resp = api.call("POST", base, tenant["admin"], {"fileName": name, **({"sizeBytes": len(data)} if data else {})})
    assert resp.status_code == 201, resp.body
    slot = api.json(resp)
    assert slot["status"] == "awaiting_upload" and slot["upload"]["method"] == "POST"
    assert slot["upload"]["fields"]["key"] == f"uploads/user-imports/{tenant['id']}/{slot['id']}.csv"
    boto3.client("s3").put_object(Bucket=settings().bucket_name, Key=slot["upload"]["fields"]["key"], Body=data)
    return dict(slot)


def status(api: Any, tenant: dict[str, Any], import_id: str) -> dict[str, Any]:
    resp = api.call("GET", f"/v1/tenants/{tenant['id']}/user-imports/{import_id}", tenant["admin"])
    assert resp.status_code == 200, resp.body
    return dict(api.json(resp))


def run_import(api: Any, tenant: dict[str, Any], data: bytes, **kw: Any) -> dict[str, Any]:
    slot = start(api, tenant, data, **kw)
    pump(api)
    return status(api, tenant, slot["id"])


def report(done: dict[str, Any]) -> list[dict[str, str]]:
    """The error report, fetched from its presigned URL (moto answers it in-process)."""
    import requests

    assert done["errorReport"], done
    text = requests.get(done["errorReport"], timeout=10).text
    return list(csv.DictReader(io.StringIO(text)))


def users_by_email(api: Any, tenant: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    cursor = ""
    while True:
        page = api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/users?limit=100{cursor}", tenant["admin"]))
        found |= {u["email"]: u for u in page["items"]}
        if not page["nextCursor"]:
            return found
        cursor = f"&cursor={page['nextCursor']}"


def people(n: int) -> bytes:
    """n new people; each row costs moto ~20 ms (a user, its claims, its event), so the big files stay lean."""
    return ("email,displayName,externalId\n"
            + "".join(f"person{i}@example.com,Person {i},ext-{i}\n" for i in range(n))).encode()


def user(tenant: dict[str, Any], email: str) -> dict[str, Any] | None:
    """A user by email (its claim, then the user: in-process, no GSI query over a big moto table)."""
    from chalicelib.store import keys
    from chalicelib.store.models import EmailClaim, User
    from chalicelib.users import service

    try:
        claim = EmailClaim.get(keys.email_pk(tenant["id"], email), keys.EMAIL_SK)
    except EmailClaim.DoesNotExist:
        return None
    return service.to_json(User.get(keys.user_pk(tenant["id"], claim.user_id), keys.USER_SK))


def test_a_thousand_rows_import_in_several_chunks(api: Any, tenant: dict[str, Any]) -> None:
    data = people(1000)
    done = run_import(api, tenant, data)
    assert done["status"] == "completed", done
    assert (done["rows"], done["processed"], done["created"], done["failed"]) == (1000, 1000, 1000, 0)
    assert done["chunks"] >= 5  # CHUNK_ROWS = 200, fewer when an invocation's time share runs out
    assert done["errorReport"] is None and done["sha256"] and done["sizeBytes"] == len(data)
    p7, last = user(tenant, "person7@example.com"), user(tenant, "person999@example.com")
    assert p7 and last and (p7["displayName"], p7["roles"], last["displayName"]) == ("Person 7", ["learner"],
                                                                                    "Person 999")
    from chalicelib.users import service

    assert service.find_by_external_id(tenant["id"], "import", "ext-999").id == last["id"]


def test_a_rerun_of_the_same_file_changes_nothing(api: Any, tenant: dict[str, Any]) -> None:
    rows = [f"lead{i}@example.com,Lead {i},manager;learner,AE,EMEA,Sales,,2024-02-0{1 + i % 9},hr-{i}\n"
            for i in range(5)]
    rows += [f"rep{i}@example.com,Rep {i},learner,SDR,APAC,Sales,lead{i % 5}@example.com,2024-03-1{i % 9},\n"
             for i in range(40)]
    data = (HEADER + "".join(rows)).encode()
    done = run_import(api, tenant, data)
    assert (done["created"], done["failed"]) == (45, 0), done
    before = {e: user(tenant, e) for e in ("lead3@example.com", "rep8@example.com")}
    assert before["rep8@example.com"]["managerId"] == before["lead3@example.com"]["id"]
    assert sorted(before["lead3@example.com"]["roles"]) == ["learner", "manager"]
    again = run_import(api, tenant, data)
    assert again["status"] == "completed" and again["sha256"] == done["sha256"]
    assert (again["unchanged"], again["created"], again["updated"], again["failed"]) == (45, 0, 0, 0)
    assert {e: user(tenant, e) for e in before} == before  # not even updatedAt moved
    listed = api.json(api.call("GET", f"/v1/tenants/{tenant['id']}/user-imports", tenant["admin"]))["items"]
    assert [i["id"] for i in listed] == [again["id"], done["id"]]  # newest first


def test_bad_rows_are_reported_with_row_and_column_and_the_rest_go_in(api: Any, tenant: dict[str, Any]) -> None:
    data = (HEADER
            + "good1@example.com,Good One,learner,,,,,,\n"
            + "not-an-email,Bad Email,,,,,,,\n"  # row 3
            + ",No Email,,,,,,,\n"  # row 4
            + "good2@example.com,Good Two,learner;wizard,,,,,,\n"  # row 5: unknown role
            + "good3@example.com,,,,,,,,\n"  # row 6: a new user needs a name
            + "good4@example.com,Good Four,,,,,,31/12/2024,\n"  # row 7: not an ISO date
            + "good5@example.com,Good Five,,,,,nobody@example.com,,\n"  # row 8: unknown manager
            + "\n"  # row 9: blank, skipped
            + "good6@example.com,Good Six,manager,,,,,,\n").encode()
    done = run_import(api, tenant, data)
    assert done["status"] == "completed"
    assert (done["rows"], done["created"], done["failed"]) == (8, 2, 6)
    errors = {(int(e["row"]), e["field"]) for e in report(done)}
    assert errors == {(3, "email"), (4, "email"), (5, "roles"), (6, "displayName"), (7, "hireDate"),
                      (8, "managerEmail")}
    assert set(users_by_email(api, tenant)) >= {"good1@example.com", "good6@example.com"}


def test_managers_resolve_by_email_including_ones_created_earlier_in_the_file(api: Any, tenant: dict[str, Any]
                                                                             ) -> None:
    boss = api.make_user(tenant["id"], email="boss@example.com", roles=["manager"])
    data = (b"Email,First Name,Last Name,Roles,Manager Email\n"  # another spelling of the columns
            b"lead@example.com,Lee,Ad,manager,boss@example.com\n"
            b"rep@example.com,Rae,Pe,learner,lead@example.com\n"
            b"self@example.com,Sel,F,learner,self@example.com\n")
    done = run_import(api, tenant, data)
    assert (done["created"], done["failed"]) == (2, 1), done
    everyone = users_by_email(api, tenant)
    assert everyone["lead@example.com"]["managerId"] == boss["id"]
    assert everyone["rep@example.com"]["managerId"] == everyone["lead@example.com"]["id"]
    assert everyone["rep@example.com"]["displayName"] == "Rae Pe"
    assert [(e["row"], e["field"]) for e in report(done)] == [("4", "managerEmail")]


def test_existing_users_are_updated_only_where_the_file_differs(api: Any, tenant: dict[str, Any]) -> None:
    same = api.make_user(tenant["id"], email="same@example.com", displayName="Same Person", region="EMEA")
    moved = api.make_user(tenant["id"], email="moved@example.com", displayName="Moved Person", region="EMEA")
    data = (b"email,displayName,region,externalId\n"
            b"SAME@example.com,Same Person,EMEA,\n"  # found by email whatever its case; nothing differs
            b"moved@example.com,Moved Person,APAC,hr-1\n"  # region changes; linked to hr-1
            b"renamed@example.com,Moved Person,APAC,hr-1\n")  # found by hr-1: its email changes
    done = run_import(api, tenant, data)
    assert (done["unchanged"], done["updated"], done["created"], done["failed"]) == (1, 2, 0, 0), done
    everyone = users_by_email(api, tenant)
    assert everyone["same@example.com"]["updatedAt"] == same["updatedAt"]
    assert everyone["renamed@example.com"]["id"] == moved["id"] and everyone["renamed@example.com"]["region"] == "APAC"
    from chalicelib.users import service

    assert service.find_by_external_id(tenant["id"], "import", "hr-1").id == moved["id"]


@pytest.mark.parametrize(("data", "problem"), [
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe binary zip", "not a CSV file"),
    (b"email,displayName\nandre@example.com,Andr\xe9\n", "not UTF-8 text (byte 40)"),
    (b"", "empty"),
    (b"name,department\nAnn,Sales\n", "no `email` column"),
    (b"email,Email\na@example.com,b@example.com\n", "more than once"),
    (b"email,name\na\x00b@example.com,x\n", "not a CSV file"),
])
def test_a_file_that_is_not_an_importable_csv_fails_cleanly(api: Any, tenant: dict[str, Any], data: bytes,
                                                            problem: str) -> None:
    done = run_import(api, tenant, data, name="data.csv")
    assert done["status"] == "failed" and problem in done["problem"], done
    assert (done["processed"], done["created"], done["errorReport"]) == (0, 0, None)
    assert len(users_by_email(api, tenant)) == 1  # the admin alone


def test_utf8_bom_and_crlf_and_quoted_newlines(api: Any, tenant: dict[str, Any]) -> None:
    data = ("\ufeffEMAIL,DisplayName,Department,Unknown Column\r\n"
            'zoe@example.com,"Zoë ""Z"" Ångström",R&D,x\r\n'
            'multi@example.com,"Two\r\nLines",Ops,y\r\n').encode()
    done = run_import(api, tenant, data)
    assert (done["created"], done["failed"], done["ignoredColumns"]) == (2, 0, ["Unknown Column"]), done
    everyone = users_by_email(api, tenant)
    assert everyone["zoe@example.com"]["displayName"] == 'Zoë "Z" Ångström'
    assert everyone["multi@example.com"]["department"] == "Ops"


def test_a_redelivered_chunk_message_counts_nothing_twice(api: Any, tenant: dict[str, Any], monkeypatch: Any) -> None:
    delivered: list[dict[str, Any]] = []
    from chalicelib.users import import_job

    monkeypatch.setattr(import_job, "TIME_SHARE", 0.0)  # out of time at once: one row per chunk and invocation
    slot = start(api, tenant, people(12))
    pump(api, keep=delivered, limit=5)  # (S3's s3:TestEvent,) the S3 event, chunk messages 1, 2...
    midway = status(api, tenant, slot["id"])
    assert midway["status"] == "processing" and 0 < midway["chunks"] < 12
    for message in (delivered[-1], delivered[-1], delivered[-2]):  # the latest twice, and an older one
        redelivery = api.client.events.generate_sqs_event(message_bodies=[json.dumps(message)], queue_name="uploads")
        api.client.lambda_.invoke("on_package_uploaded", redelivery)
    pump(api, keep=delivered)
    first = status(api, tenant, slot["id"])
    assert (first["status"], first["created"], first["chunks"]) == ("completed", 12, 12)
    chunk_messages = [m for m in delivered if "userImportChunk" in m]
    assert chunk_messages, "the import never handed a chunk on"
    for message in [delivered[0], *chunk_messages]:  # the S3 event and every chunk message, again
        event = api.client.events.generate_sqs_event(message_bodies=[json.dumps(message)], queue_name="uploads")
        api.client.lambda_.invoke("on_package_uploaded", event)
    pump(api)
    again = status(api, tenant, slot["id"])
    assert {k: again[k] for k in ("processed", "created", "chunks", "failed")} == \
        {k: first[k] for k in ("processed", "created", "chunks", "failed")}


def test_a_chunk_recorded_by_a_delivery_that_died_is_handed_on_by_the_redelivery(api: Any, tenant: dict[str, Any],
                                                                                   monkeypatch: Any) -> None:
    """The first delivery records its chunk and dies before sending the next message: SQS redelivers it,
    and the redelivery goes on from the recorded chunk."""
    from chalicelib.users import import_job

    monkeypatch.setattr(import_job, "TIME_SHARE", 0.0)  # out of time at once: one row per chunk and invocation
    slot = start(api, tenant, people(5))
    real_send = import_job._send
    calls: list[Any] = []

    def dying_send(item: Any) -> None:
        calls.append(item.chunks)
        if len(calls) == 1:
            raise ConnectionError("the invocation died here")
        real_send(item)

    monkeypatch.setattr(import_job, "_send", dying_send)
    sqs, url = boto3.client("sqs"), _queue_url()
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    s3_event = next(b for b in bodies if slot["id"] in b)  # (S3 also sent its s3:TestEvent)
    event = api.client.events.generate_sqs_event(message_bodies=[s3_event], queue_name="uploads")
    with pytest.raises(ConnectionError):
        api.client.lambda_.invoke("on_package_uploaded", event)
    died = status(api, tenant, slot["id"])
    assert (died["processed"], died["chunks"]) == (1, 1)  # chunk 0 was recorded, nothing was handed on
    api.client.lambda_.invoke("on_package_uploaded", event)  # SQS's redelivery of the same message
    pump(api)
    done = status(api, tenant, slot["id"])
    assert (done["status"], done["created"], done["chunks"]) == ("completed", 5, 5)


def test_imports_are_for_admins_and_file_names_are_checked(api: Any, tenant: dict[str, Any]) -> None:
    _, learner = api.user_token(tenant["id"], ["learner"])
    base = f"/v1/tenants/{tenant['id']}/user-imports"
    assert api.call("POST", base, learner, {}).status_code == 403
    _, manager = api.user_token(tenant["id"], ["manager"])
    assert api.call("GET", base, manager).status_code == 403
    resp = api.call("POST", base, tenant["admin"], {"fileName": "users.xlsx"})
    assert resp.status_code == 400 and api.json(resp)["errors"][0]["field"] == "fileName"
    assert api.call("POST", base, tenant["admin"], {"sizeBytes": 21 * 1024 * 1024}).status_code == 400
    assert api.call("GET", f"{base}/im-nope", tenant["admin"]).status_code == 404


def test_the_presigned_post_takes_a_csv_within_the_cap(api: Any, tenant: dict[str, Any]) -> None:
    """The upload slot is a real presigned POST: the CLI's multipart body is accepted by S3 (moto)."""
    from chalicelib.content.client import multipart

    slot = api.json(api.call("POST", f"/v1/tenants/{tenant['id']}/user-imports", tenant["admin"], {}))
    body, content_type = multipart(slot["upload"]["fields"], "file", "users.csv", people(3), "text/csv")
    import requests  # moto answers requests' calls to AWS in-process

    resp = requests.post(slot["upload"]["url"], data=body, headers={"Content-Type": content_type}, timeout=10)
    assert resp.status_code in (200, 204), resp.text
    policy = json.loads(base64.b64decode(slot["upload"]["fields"]["policy"]))  # S3 enforces it (moto does not)
    assert ["content-length-range", 1, 20 * 1024 * 1024] in policy["conditions"]
    pump(api)
    assert status(api, tenant, slot["id"])["created"] == 3
