"""End to end in a real Chromium: a new tenant uploads a SCORM package, publishes it, enrolls a learner,
who plays it in the player; the attempt completes with its score and content version, and a relaunch
resumes where the learner left off. All over HTTP against the stack `make run` starts."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from chalicelib.content import starter
from chalicelib.content.client import multipart

pytestmark = [pytest.mark.integration, pytest.mark.browser]
PASSWORD = "correct-horse-battery"


def _upload(stack: Any, token: str, base: str, package: bytes) -> dict[str, Any]:
    import urllib.request

    slot = stack.call("POST", f"{base}/uploads", {"fileName": "course.zip"}, token)
    assert slot.status == 201, slot.body
    post = slot.json()["upload"]
    body, content_type = multipart(post["fields"], "file", "course.zip", package)
    req = urllib.request.Request(post["url"], data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status in (200, 201, 204)
    deadline = time.monotonic() + 60  # the S3 event reaches the ingest handler through SQS and the pump
    while time.monotonic() < deadline:
        upload = stack.call("GET", f"{base}/uploads/{slot.json()['id']}", token=token).json()
        if upload["status"] in ("ingested", "rejected"):
            return dict(upload)
        time.sleep(0.25)
    pytest.fail(f"the upload was not ingested in time:\n{stack.output()[-3000:]}")


def _attempt(stack: Any, tenant: str, token: str, enrollment_id: str) -> dict[str, Any]:
    reply = stack.call("POST", f"/v1/tenants/{tenant}/enrollments/{enrollment_id}/attempts", token=token)
    assert reply.status in (200, 201), reply.body
    return dict(reply.json())


def _wait_for(stack: Any, path: str, token: str, done: Any, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        doc = stack.call("GET", path, token=token).json()
        if done(doc):
            return doc
        time.sleep(0.2)
    pytest.fail(f"{what}: {doc}")


def _published_course(stack: Any, slug: str) -> dict[str, Any]:
    """A new tenant with an admin and a learner; the starter package uploaded, ingested, published; the
    learner enrolled. What a new user does with `make run`."""
    tenant = stack.make_tenant(f"player-{uuid.uuid4().hex[:8]}")["id"]
    stack.make_user(tenant, "admin@player.example", ["admin"], PASSWORD)
    admin = stack.login(tenant, "admin@player.example", PASSWORD)
    learner = stack.make_user(tenant, "rep@player.example", ["learner"], PASSWORD, token=admin)
    rep = stack.login(tenant, "rep@player.example", PASSWORD)
    course = stack.call("POST", f"/v1/tenants/{tenant}/courses", {"title": starter.STARTER[slug].title}, admin).json()
    base = f"/v1/tenants/{tenant}/courses/{course['id']}"
    upload = _upload(stack, admin, base, starter.build(slug))
    assert upload["status"] == "ingested", upload
    published = stack.call("POST", f"{base}/versions/{upload['versionNumber']}/publish", token=admin)
    assert published.status == 200, published.body
    enrolled = stack.call("POST", f"/v1/tenants/{tenant}/enrollments",
                          {"userId": learner["id"], "courseId": course["id"]}, admin)
    assert enrolled.status == 201, enrolled.body
    return {"tenant": tenant, "rep": rep, "upload": upload, "enrollment": enrolled.json()}


def test_upload_publish_enroll_play_complete_and_resume(stack: Any, browser: Any) -> None:
    w = _published_course(stack, "prospecting-101")
    tenant, rep, upload, enrollment = w["tenant"], w["rep"], w["upload"], w["enrollment"]

    # first session: read two pages, then close the tab
    attempt = _attempt(stack, tenant, rep, enrollment["id"])
    page = browser.new_page()
    page.goto(stack.api + attempt["launchUrl"])
    sco = page.frame_locator('[data-testid="sco-frame"]')
    first_title = sco.locator('[data-testid="page-title"]').inner_text()
    sco.locator('[data-testid="next"]').click()
    sco.locator('[data-testid="next"]').click()
    third_title = sco.locator('[data-testid="page-title"]').inner_text()
    assert third_title != first_title
    page.close(run_before_unload=True)
    path = f"/v1/tenants/{tenant}/attempts/{attempt['id']}"
    saved = _wait_for(stack, path, rep, lambda d: d["scos"][0]["location"] == "2", "the location was not saved")
    assert saved["status"] == "in_progress"

    # relaunch: the same attempt, resumed on the third page; finish the quiz and close
    again = _attempt(stack, tenant, rep, enrollment["id"])
    assert again["id"] == attempt["id"]
    page = browser.new_page()
    page.goto(stack.api + again["launchUrl"])
    sco = page.frame_locator('[data-testid="sco-frame"]')
    assert sco.locator('[data-testid="page-title"]').inner_text() == third_title
    sco.locator('[data-testid="next"]').click()
    for question, answer in starter.STARTER["prospecting-101"].answers.items():
        sco.locator(f'input[name="{question}"][value="{answer}"]').check()
    sco.locator('[data-testid="submit-quiz"]').click()
    assert "Score: 100%" in sco.locator('[data-testid="result"]').inner_text()
    page.close(run_before_unload=True)

    done = _wait_for(stack, path, rep, lambda d: d["status"] == "completed", "the attempt did not complete")
    assert done["score"] == 100.0 and done["success"] == "passed"
    assert done["version"] == upload["versionNumber"] and done["durationSeconds"] > 0
    final = stack.call("GET", f"/v1/tenants/{tenant}/enrollments/{enrollment['id']}", token=rep).json()
    assert final["status"] == "completed" and final["version"] == upload["versionNumber"]


def test_a_scorm_2004_course_with_two_scos_flows_from_lesson_to_quiz(stack: Any, browser: Any) -> None:
    w = _published_course(stack, "closing-techniques")
    tenant, rep = w["tenant"], w["rep"]
    attempt = _attempt(stack, tenant, rep, w["enrollment"]["id"])
    page = browser.new_page()
    page.goto(stack.api + attempt["launchUrl"])
    sco = page.frame_locator('[data-testid="sco-frame"]')
    for _ in range(2):
        sco.locator('[data-testid="next"]').click()
    sco.locator('[data-testid="continue"]').click()  # adl.nav.request=continue, then Terminate
    page.wait_for_url("**&sco=*")  # the player follows the SCO's navigation request to the next SCO
    sco = page.frame_locator('[data-testid="sco-frame"]')
    for question, answer in starter.STARTER["closing-techniques"].answers.items():
        sco.locator(f'input[name="{question}"][value="{answer}"]').check()
    sco.locator('[data-testid="submit-quiz"]').click()
    assert "Score: 100%" in sco.locator('[data-testid="result"]').inner_text()
    page.close(run_before_unload=True)
    path = f"/v1/tenants/{tenant}/attempts/{attempt['id']}"
    done = _wait_for(stack, path, rep, lambda d: d["status"] == "completed", "the attempt did not complete")
    assert [s["completion"] for s in done["scos"]] == ["completed", "completed"]
    assert done["success"] == "passed" and done["score"] == 100.0 and done["format"] == "scorm2004"
