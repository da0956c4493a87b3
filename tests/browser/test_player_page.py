"""The SCORM player page end to end: player.html rendered with Jinja2, player.js + scorm-again in Chromium, a fake SCO.

A small threaded http.server serves the page (under a strict CSP), content_bucket/player, a fake SCO written into a
tmp dir, and a fake runtime endpoint that records every commit and answers as ours does, judging the body with
chalicelib.content.runtime.parse_commit. The SCO finds the API the standard way (walking window.parent), reads its
resume data, and is then driven from the test (set values, commit, finish).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from jinja2 import Environment, FileSystemLoader

from chalicelib.content.runtime import parse_commit, resume_cmi
from chalicelib.errors import ValidationFailed

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "chalicelib" / "templates"
CONTENT = REPO / "content_bucket"

TOKEN = "tok-123"
COMMIT_PATH = "/v1/tenants/t1/attempts/a1/runtime"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'")

# The fake SCO. Finds the API like real content does, initializes, reports what it read, then obeys the test.
SCO_JS = r"""
(function () {
  "use strict";
  function find(name) {
    var win = window, tries = 0;
    while (!win[name] && win.parent && win.parent !== win && tries < 7) { win = win.parent; tries++; }
    return win[name] || null;
  }
  var api2004 = find("API_1484_11");
  var api12 = api2004 ? null : find("API");
  var is2004 = !!api2004;
  var api = api2004 || api12;
  var READS = is2004 ? [
    "cmi.learner_id", "cmi.learner_name", "cmi.entry", "cmi.credit", "cmi.mode", "cmi.completion_status",
    "cmi.success_status", "cmi.location", "cmi.total_time", "cmi.score.scaled", "cmi.score.raw", "cmi.suspend_data",
    "cmi.launch_data", "cmi.scaled_passing_score", "cmi.completion_threshold", "cmi.progress_measure",
    "cmi.interactions._count", "cmi.interactions.0.id", "cmi.interactions.0.type",
    "cmi.interactions.0.learner_response", "cmi.interactions.0.correct_responses.0.pattern",
    "cmi.objectives._count", "cmi.objectives.0.id", "cmi.objectives.0.success_status",
    "cmi.comments_from_learner._count", "cmi.comments_from_learner.0.comment", "cmi.learner_preference.audio_level"
  ] : [
    "cmi.core.student_id", "cmi.core.student_name", "cmi.core.entry", "cmi.core.credit", "cmi.core.lesson_mode",
    "cmi.core.lesson_status", "cmi.core.lesson_location", "cmi.core.total_time", "cmi.core.score.raw",
    "cmi.core.score.max", "cmi.suspend_data", "cmi.launch_data", "cmi.student_data.mastery_score", "cmi.comments",
    "cmi.interactions._count", "cmi.objectives._count", "cmi.objectives.0.id", "cmi.objectives.0.status",
    "cmi.objectives.0.score.raw", "cmi.student_preference.language"
  ];
  var call = function (name12, name2004) {
    var args = Array.prototype.slice.call(arguments, 2);
    return api[is2004 ? name2004 : name12].apply(api, args);
  };
  var sco = {
    is2004: is2004,
    get: function (k) { return call("LMSGetValue", "GetValue", k); },
    set: function (k, v) { return call("LMSSetValue", "SetValue", k, v); },
    setMany: function (pairs) {
      return pairs.map(function (p) { return [p[0], sco.set(p[0], p[1]), sco.lastError()]; });
    },
    commit: function () { return call("LMSCommit", "Commit", ""); },
    finish: function () { return call("LMSFinish", "Terminate", ""); },
    lastError: function () { return call("LMSGetLastError", "GetLastError"); }
  };
  window.sco = sco;
  window.report = { api: api2004 ? "API_1484_11" : (api12 ? "API" : null), is2004: is2004, values: {}, errors: {} };
  if (!api) return;
  window.report.init = call("LMSInitialize", "Initialize", "");
  READS.forEach(function (k) {
    window.report.values[k] = sco.get(k);
    window.report.errors[k] = sco.lastError();
  });
  // Like much real content: save the session time and finish from the SCO's own unload handler.
  if (/[?&]unloadsave=1/.test(location.search)) {
    window.addEventListener("unload", function () {
      sco.set(is2004 ? "cmi.session_time" : "cmi.core.session_time", is2004 ? "PT42S" : "00:00:42");
      sco.finish();
    });
  }
})();
"""

SCO_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Fake SCO</title><script src="sco.js"></script></head>
<body><p>Fake SCO</p></body></html>
"""


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: bytes
    status: int = 200

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Course:
    standard: str
    scos: list[dict[str, str]]
    cmi: dict[str, dict[str, Any]] = field(default_factory=dict)
    mastery: float | None = None
    navigation: dict[str, bool] = field(default_factory=lambda: {"choice": True, "flow": True})
    exit_url: str | None = "/bye"
    status: dict[str, Any] = field(default_factory=lambda: {"completion": "incomplete", "success": None,
                                                            "score": None})


class Player:
    """The test web server: player page, player assets, fake SCO, fake runtime endpoint."""

    def __init__(self, sco_dir: Path, course: Course) -> None:
        self.sco_dir = sco_dir
        self.course = course
        self.commits: list[Recorded] = []
        self.fail_next: list[int] = []
        self.errors: list[str] = []
        self._cond = threading.Condition()
        self._env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)
        self._httpd = _Server(self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def launch_url(self, sco_id: str | None = None) -> str:
        sco = sco_id or self.course.scos[0]["id"]
        return f"{self.origin}/launch?token={TOKEN}&sco={sco}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def render(self, sco_id: str) -> str:
        course = self.course
        config = {
            "standard": course.standard,
            "attemptId": "a1",
            "scos": course.scos,
            "scoId": sco_id,
            "commitUrl": f"{COMMIT_PATH}?token={TOKEN}",
            "launchUrl": f"/launch?token={TOKEN}",
            "cmi": course.cmi.get(sco_id) or resume_cmi(
                course.standard, None, learner_id="u-42", learner_name="Doe, Jane", total_seconds=0,
                mastery=course.mastery, completion_threshold=None, launch_data=None),
            "navigation": course.navigation,
            "exitUrl": course.exit_url,
            "assetBase": "/content/player/",
            "status": course.status,
        }
        brand = {"name": "Acme Sales Academy", "primaryColor": "#0b3d91", "accentColor": "#f59e0b",
                 "textColor": "#ffffff", "logoUrl": "/content/branding/onramp-logo.svg"}
        return self._env.get_template("player.html").render(brand=brand, course_title="Negotiation <Basics>",
                                                            config=config)

    def wait_commits(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.commits) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} commits, got {len(self.commits)}: {self.commits!r}")
                self._cond.wait(remaining)
            return list(self.commits)

    def record(self, record: Recorded) -> None:
        with self._cond:
            self.commits.append(record)
            self._cond.notify_all()

    def answer(self, record: Recorded) -> tuple[int, dict[str, Any]]:
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"title": "failure injected by the test"}
        try:
            commit = parse_commit(self.course.standard, record.body, self.course.mastery)
        except ValidationFailed as e:
            self.errors.append(f"{e.detail}: {e.errors}")
            return 400, {"title": e.title, "errors": e.errors}
        score = None  # a percentage, as the attempt reports it
        if commit.score and "scaled" in commit.score:
            score = commit.score["scaled"] * 100
        elif commit.score and "raw" in commit.score:
            score = commit.score["raw"] / commit.score.get("max", 100.0) * 100
        attempt = {"completion": commit.completion, "success": commit.success, "score": score}
        return 200, {"result": True, "errorCode": 0, "attempt": attempt}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, player: Player) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.player = player


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        player = self.server.player
        url = urlsplit(self.path)
        if url.path == "/launch":
            sco = parse_qs(url.query).get("sco", [player.course.scos[0]["id"]])[0]
            self._send(200, player.render(sco).encode(), "text/html; charset=utf-8", {"Content-Security-Policy": CSP})
        elif url.path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        elif url.path == "/bye":
            self._send(200, b"<!doctype html><title>bye</title>bye", "text/html")
        elif url.path.startswith(("/content/player/", "/content/branding/")):
            self._file(CONTENT, url.path[len("/content/"):])
        elif url.path.startswith(f"/play/{TOKEN}/"):
            self._file(player.sco_dir, url.path[len(f"/play/{TOKEN}/"):])
        else:
            self._send(404, b"not found", "text/plain")

    def _file(self, root: Path, relative: str) -> None:
        target = (root / relative).resolve()
        if root.resolve() not in target.parents or not target.is_file():
            self._send(404, b"not found", "text/plain")
            return
        types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
        self._send(200, target.read_bytes(), types.get(target.suffix, "application/octet-stream"))

    def _commit(self) -> None:
        url = urlsplit(self.path)
        if url.path != COMMIT_PATH:
            self._send(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        record = Recorded(self.command, url.path, parse_qs(url.query), self.headers.get("Content-Type", ""),
                          self.rfile.read(length))
        status, answer = self.server.player.answer(record)
        record.status = status
        self._send(status, json.dumps(answer).encode(), "application/json")
        self.server.player.record(record)

    do_POST = _commit
    do_PUT = _commit


@pytest.fixture
def sco_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(SCO_HTML)
    (tmp_path / "sco.js").write_text(SCO_JS)
    return tmp_path


@pytest.fixture
def make_player(player_assets: Path, sco_dir: Path) -> Iterator[Callable[[Course], Player]]:
    started: list[Player] = []

    def make(course: Course) -> Player:
        player = Player(sco_dir, course)
        player.start()
        started.append(player)
        return player

    yield make
    for player in started:
        player.stop()


@dataclass
class Tab:
    page: Any
    page_errors: list[str]
    console_errors: list[str]

    def sco_frame(self, timeout: float = 10_000) -> Any:
        self.page.wait_for_function(
            "() => document.getElementById('sco-frame')?.dataset.scoState === 'initialized'", timeout=timeout)
        frames = [f for f in self.page.frames if f"/play/{TOKEN}/" in f.url]
        assert len(frames) == 1, [f.url for f in self.page.frames]
        return frames[0]

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__csp || []")
        return violations


@pytest.fixture
def open_tab(browser: Any) -> Iterator[Callable[[str], Tab]]:
    contexts: list[Any] = []

    def open_(url: str) -> Tab:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page, [], [])
        page.on("pageerror", lambda error: tab.page_errors.append(str(error)))
        page.on("console", lambda msg: tab.console_errors.append(msg.text) if msg.type == "error" else None)
        page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                             "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        page.goto(url)
        return tab

    yield open_
    for context in contexts:
        context.close()


def sco(id_: str, title: str) -> dict[str, str]:
    return {"id": id_, "title": title, "url": f"/play/{TOKEN}/index.html"}


# ---------------------------------------------------------------------------------------------------------------------
# SCORM 1.2


PREVIOUS_12: dict[str, Any] = {  # what parse_commit stored from the previous session's last commit (Commit.cmi)
    "core": {"lesson_location": "page-3", "lesson_status": "incomplete", "exit": "suspend",
             "score": {"raw": "40", "max": "100"}},
    "suspend_data": "chapter=3;answers=ab",
    "comments": "first try",
    "objectives": [{"id": "obj-1", "status": "incomplete", "score": {"raw": "40"}}],
    "student_preference": {"language": "en"},
    "interactions": [{"id": "q1", "type": "choice", "time": "10:00:00", "student_response": "b", "result": "wrong",
                      "latency": "00:00:12", "correct_responses": [{"pattern": "a"}]}],
}


def course_12(**overrides: Any) -> Course:
    cmi = resume_cmi("scorm12", PREVIOUS_12, learner_id="u-42", learner_name="Doe, Jane", total_seconds=3725.5,
                     mastery=80, completion_threshold=None, launch_data="mode=sales")
    course = Course(standard="scorm12", scos=[sco("s1", "Opening the call")], cmi={"s1": cmi}, mastery=80)
    for key, value in overrides.items():
        setattr(course, key, value)
    return course


@pytest.mark.browser
def test_scorm12_resume_commit_and_beacon_when_the_page_closes(make_player: Any, open_tab: Any) -> None:
    player = make_player(course_12())
    tab = open_tab(player.launch_url())
    frame = tab.sco_frame()

    report = frame.evaluate("window.report")
    assert report["api"] == "API" and report["init"] == "true"
    assert tab.page.evaluate("typeof window.API_1484_11") == "undefined"
    values = report["values"]
    assert values == {
        "cmi.core.student_id": "u-42",
        "cmi.core.student_name": "Doe, Jane",
        "cmi.core.entry": "resume",
        "cmi.core.credit": "credit",
        "cmi.core.lesson_mode": "normal",
        "cmi.core.lesson_status": "incomplete",
        "cmi.core.lesson_location": "page-3",
        "cmi.core.total_time": "01:02:05.5",  # scorm-again normalises the loaded "01:02:05.50"
        "cmi.core.score.raw": "40",
        "cmi.core.score.max": "100",
        "cmi.suspend_data": "chapter=3;answers=ab",
        "cmi.launch_data": "mode=sales",
        "cmi.student_data.mastery_score": "80",
        "cmi.comments": "first try",
        "cmi.interactions._count": "1",  # the earlier interaction was loaded; new ones are appended
        "cmi.objectives._count": "1",
        "cmi.objectives.0.id": "obj-1",
        "cmi.objectives.0.status": "incomplete",
        "cmi.objectives.0.score.raw": "40",
        "cmi.student_preference.language": "en",
    }
    assert set(report["errors"].values()) == {"0"}

    results = frame.evaluate("""() => sco.setMany([
        ["cmi.core.lesson_location", "page-4"], ["cmi.core.score.raw", "90"], ["cmi.core.lesson_status", "completed"],
        ["cmi.core.session_time", "00:05:00"], ["cmi.core.exit", "suspend"], ["cmi.suspend_data", "chapter=4"],
        ["cmi.interactions.1.id", "q2"], ["cmi.interactions.1.type", "true-false"],
        ["cmi.interactions.1.student_response", "t"], ["cmi.interactions.1.result", "correct"]])""")
    assert all(ok == "true" and err == "0" for _, ok, err in results), results
    assert frame.evaluate("sco.commit()") == "true"
    assert frame.evaluate("sco.lastError()") == "0"

    first = player.wait_commits(1)[0]
    assert first.method == "POST"
    assert first.content_type == "application/json;charset=UTF-8"
    assert first.query == {"token": [TOKEN], "sco": ["s1"]}
    body = first.json
    assert set(body) == {"cmi"}  # a plain commit: no "terminated", and no total_time
    core = body["cmi"]["core"]
    assert "total_time" not in core
    assert core["lesson_location"] == "page-4" and core["lesson_status"] == "completed"
    assert core["session_time"] == "00:05:00" and core["exit"] == "suspend"
    assert core["score"] == {"raw": "90", "min": "", "max": "100"}
    assert sorted(body["cmi"]["interactions"]) == ["0", "1"]
    assert body["cmi"]["interactions"]["1"]["id"] == "q2"

    commit = parse_commit("scorm12", first.body, 80)
    assert (commit.completion, commit.success) == ("completed", "passed")
    assert commit.session_seconds == 300 and commit.location == "page-4" and commit.exit == "suspend"
    assert [i["id"] for i in commit.interactions] == ["q1", "q2"]

    status = tab.page.get_by_test_id("course-status")
    assert status.text_content().strip() == "Completed · Passed · 90%"
    assert status.get_attribute("data-success") == "passed"

    assert tab.csp_violations() == []
    assert tab.page_errors == [] and tab.console_errors == []
    tab.page.close()

    final = player.wait_commits(2)[1]
    assert final.method == "POST"
    # navigator.sendBeacon with a Blob typed text/plain;charset=UTF-8 (Chromium lower-cases a Blob's type)
    assert final.content_type.lower() == "text/plain;charset=utf-8"
    assert final.query == {"token": [TOKEN], "sco": ["s1"]}
    body = final.json
    assert body["terminated"] is True
    assert body["cmi"]["core"]["total_time"] == "01:07:05.5"  # loaded total + this session
    terminated = parse_commit("scorm12", final.body, 80)
    assert terminated.terminated and terminated.completion == "completed" and terminated.success == "passed"
    assert player.errors == []
    time.sleep(0.3)
    assert len(player.commits) == 2


@pytest.mark.browser
def test_scorm12_sco_saving_in_its_own_unload_handler_is_not_cut_short(make_player: Any, open_tab: Any,
                                                                        sco_dir: Path) -> None:
    course = course_12(scos=[{"id": "s1", "title": "Opening", "url": f"/play/{TOKEN}/index.html?unloadsave=1"}])
    player = make_player(course)
    tab = open_tab(player.launch_url())
    frame = tab.sco_frame()
    assert frame.evaluate("sco.set('cmi.core.lesson_status', 'incomplete')") == "true"
    tab.page.close()

    (final,) = player.wait_commits(1)
    assert final.content_type.lower() == "text/plain;charset=utf-8"
    body = final.json
    assert body["terminated"] is True
    # Set by the SCO in its unload handler: the player let it run before terminating on its own.
    assert body["cmi"]["core"]["session_time"] == "00:00:42"
    time.sleep(0.3)
    assert len(player.commits) == 1


@pytest.mark.browser
def test_scorm12_commit_failure_reaches_the_sco_and_the_learner(make_player: Any, open_tab: Any) -> None:
    player = make_player(course_12())
    tab = open_tab(player.launch_url())
    frame = tab.sco_frame()
    player.fail_next.append(500)
    assert frame.evaluate("sco.commit()") == "false"
    assert frame.evaluate("sco.lastError()") == "101"
    alert = tab.page.get_by_test_id("player-alert")
    assert alert.is_visible() and "could not be saved" in alert.text_content()
    assert frame.evaluate("sco.commit()") == "true"
    assert alert.is_hidden()
    assert [c.status for c in player.wait_commits(2)] == [500, 200]


@pytest.mark.browser
def test_resume_data_scorm_again_refuses_does_not_lose_the_rest(make_player: Any, open_tab: Any) -> None:
    stored = {**PREVIOUS_12, "core": {**PREVIOUS_12["core"], "lesson_location": "x" * 300}}  # over CMIString256
    course = course_12()
    course.cmi = {"s1": resume_cmi("scorm12", stored, learner_id="u-42", learner_name="Doe, Jane", total_seconds=60,
                                   mastery=80, completion_threshold=None, launch_data=None)}
    player = make_player(course)
    tab = open_tab(player.launch_url())
    values = tab.sco_frame().evaluate("window.report.values")
    assert values["cmi.core.lesson_location"] == ""
    assert values["cmi.core.entry"] == "resume" and values["cmi.suspend_data"] == "chapter=3;answers=ab"
    assert values["cmi.interactions._count"] == "1" and values["cmi.core.total_time"] == "00:01:00"
    assert tab.page_errors == []


# ---------------------------------------------------------------------------------------------------------------------
# SCORM 2004


PREVIOUS_2004: dict[str, Any] = {
    "completion_status": "incomplete", "success_status": "unknown", "exit": "suspend", "location": "slide-7",
    "suspend_data": '{"slide":7}', "progress_measure": "0.5", "score": {"scaled": "0.4", "raw": "40"},
    "learner_preference": {"audio_level": "0.5"},
    "comments_from_learner": [{"comment": "hard one", "location": "slide-2", "timestamp": "2025-01-02T10:00:00"}],
    "objectives": [{"id": "obj-a", "success_status": "failed", "completion_status": "incomplete",
                    "score": {"scaled": "0.4"}}],
    "interactions": [{"id": "q1", "type": "choice", "timestamp": "2025-01-02T10:01:00", "weighting": "1",
                      "learner_response": "b", "result": "incorrect", "latency": "PT12S",
                      "correct_responses": [{"pattern": "a"}], "objectives": [{"id": "obj-a"}]}],
}


def course_2004() -> Course:
    cmi = resume_cmi("scorm2004", PREVIOUS_2004, learner_id="u-42", learner_name="Jane Doe", total_seconds=90,
                     mastery=0.8, completion_threshold=0.75, launch_data="mode=sales")
    return Course(standard="scorm2004", scos=[sco("s1", "Discovery")], cmi={"s1": cmi}, mastery=0.8)


@pytest.mark.browser
def test_scorm2004_resume_commit_and_terminate_by_the_sco(make_player: Any, open_tab: Any) -> None:
    player = make_player(course_2004())
    tab = open_tab(player.launch_url())
    frame = tab.sco_frame()

    report = frame.evaluate("window.report")
    assert report["api"] == "API_1484_11" and report["init"] == "true"
    assert tab.page.evaluate("typeof window.API") == "undefined"
    assert report["values"] == {
        "cmi.learner_id": "u-42",
        "cmi.learner_name": "Jane Doe",
        "cmi.entry": "resume",
        "cmi.credit": "credit",
        "cmi.mode": "normal",
        # scorm-again evaluates these against the thresholds it was loaded with (RTE 4.2.4.1 / 4.2.22.1)
        "cmi.completion_status": "incomplete",  # progress 0.5 < threshold 0.75
        "cmi.success_status": "failed",  # scaled 0.4 < scaled passing score 0.8
        "cmi.location": "slide-7",
        "cmi.total_time": "PT1M30S",
        "cmi.score.scaled": "0.4",
        "cmi.score.raw": "40",
        "cmi.suspend_data": '{"slide":7}',
        "cmi.launch_data": "mode=sales",
        "cmi.scaled_passing_score": "0.8",
        "cmi.completion_threshold": "0.75",
        "cmi.progress_measure": "0.5",
        "cmi.interactions._count": "1",
        "cmi.interactions.0.id": "q1",
        "cmi.interactions.0.type": "choice",
        "cmi.interactions.0.learner_response": "b",
        "cmi.interactions.0.correct_responses.0.pattern": "a",
        "cmi.objectives._count": "1",
        "cmi.objectives.0.id": "obj-a",
        "cmi.objectives.0.success_status": "failed",
        "cmi.comments_from_learner._count": "1",
        "cmi.comments_from_learner.0.comment": "hard one",
        "cmi.learner_preference.audio_level": "0.5",
    }
    assert set(report["errors"].values()) == {"0"}

    results = frame.evaluate("""() => sco.setMany([
        ["cmi.location", "slide-9"], ["cmi.progress_measure", "1"], ["cmi.completion_status", "completed"],
        ["cmi.score.scaled", "0.9"], ["cmi.score.raw", "90"], ["cmi.score.min", "0"], ["cmi.score.max", "100"],
        ["cmi.success_status", "passed"], ["cmi.session_time", "PT5M"], ["cmi.exit", "suspend"],
        ["cmi.interactions.1.id", "q2"], ["cmi.interactions.1.type", "true-false"],
        ["cmi.interactions.1.learner_response", "true"], ["cmi.interactions.1.result", "correct"]])""")
    assert all(ok == "true" and err == "0" for _, ok, err in results), results
    assert frame.evaluate("sco.commit()") == "true"

    first = player.wait_commits(1)[0]
    assert first.content_type == "application/json;charset=UTF-8"
    assert first.query == {"token": [TOKEN], "sco": ["s1"]}
    body = first.json
    assert set(body) == {"cmi"}
    cmi = body["cmi"]
    assert "total_time" not in cmi
    assert (cmi["location"], cmi["completion_status"], cmi["success_status"]) == ("slide-9", "completed", "passed")
    assert cmi["score"] == {"scaled": "0.9", "raw": "90", "min": "0", "max": "100"}
    assert (cmi["session_time"], cmi["exit"]) == ("PT5M", "suspend")
    assert sorted(cmi["interactions"]) == ["0", "1"]
    commit = parse_commit("scorm2004", first.body, 0.8, completion_threshold=0.75)
    assert (commit.completion, commit.success, commit.score) == (
        "completed", "passed", {"scaled": 0.9, "raw": 90.0, "min": 0.0, "max": 100.0})
    assert commit.session_seconds == 300

    status = tab.page.get_by_test_id("course-status")
    assert status.text_content().strip() == "Completed · Passed · 90%"

    assert frame.evaluate("sco.finish()") == "true"
    final = player.wait_commits(2)[1]
    assert final.content_type.lower() == "text/plain;charset=utf-8"
    body = final.json
    assert body["terminated"] is True
    assert body["cmi"]["total_time"] == "PT6M30S"
    assert parse_commit("scorm2004", final.body, 0.8).terminated
    assert tab.page.evaluate("document.getElementById('sco-frame').dataset.scoState") == "terminated"

    assert tab.csp_violations() == []
    assert tab.page_errors == [] and tab.console_errors == []
    tab.page.close()
    time.sleep(0.5)
    assert len(player.commits) == 2  # already terminated: closing the page sends nothing more
    assert player.errors == []


@pytest.mark.browser
def test_scorm2004_terminate_on_page_close_is_a_beacon(make_player: Any, open_tab: Any) -> None:
    player = make_player(course_2004())
    tab = open_tab(player.launch_url())
    frame = tab.sco_frame()
    assert frame.evaluate("sco.set('cmi.location', 'slide-8')") == "true"
    tab.page.close()
    (final,) = player.wait_commits(1)
    assert final.content_type.lower() == "text/plain;charset=utf-8"
    body = final.json
    assert body["terminated"] is True and body["cmi"]["location"] == "slide-8"
    assert body["cmi"]["total_time"].startswith("PT")
    commit = parse_commit("scorm2004", final.body, 0.8)
    assert commit.terminated and commit.location == "slide-8" and commit.exit == ""


# ---------------------------------------------------------------------------------------------------------------------
# Navigation


@pytest.mark.browser
def test_next_terminates_the_current_sco_and_launches_the_next(make_player: Any, open_tab: Any) -> None:
    course = course_12(scos=[sco("s1", "Opening"), sco("s2", "Closing")])
    player = make_player(course)
    tab = open_tab(player.launch_url("s1"))
    frame = tab.sco_frame()
    page = tab.page
    assert page.get_by_test_id("nav-prev").count() == 0
    assert page.get_by_test_id("nav-next").is_visible()
    links = page.get_by_test_id("sco-choice").locator("a")
    assert links.all_text_contents() == ["Opening", "Closing"]
    assert links.first.get_attribute("aria-current") == "page"
    assert frame.evaluate("sco.set('cmi.core.lesson_location', 'end')") == "true"

    page.get_by_test_id("nav-next").click()
    page.wait_for_url("**sco=s2")
    second = tab.sco_frame()
    assert second.evaluate("window.report.values['cmi.core.entry']") == "ab-initio"  # nothing stored for s2

    commits = player.wait_commits(2)
    # The player commits (synchronously, so the server has it before the next page) and then terminates (beacon).
    assert [c.content_type.lower() for c in commits] == ["application/json;charset=utf-8", "text/plain;charset=utf-8"]
    assert all(c.query["sco"] == ["s1"] for c in commits)
    assert commits[1].json["terminated"] is True
    assert commits[1].json["cmi"]["core"]["lesson_location"] == "end"
    assert page.get_by_test_id("nav-prev").get_attribute("data-sco") == "s1"
    assert page.get_by_test_id("nav-next").count() == 0


@pytest.mark.browser
def test_exit_terminates_and_goes_to_the_exit_url(make_player: Any, open_tab: Any) -> None:
    player = make_player(course_12())
    tab = open_tab(player.launch_url())
    tab.sco_frame()
    tab.page.get_by_test_id("nav-exit").click()
    tab.page.wait_for_url("**/bye")
    commits = player.wait_commits(2)
    assert commits[-1].json["terminated"] is True


@pytest.mark.browser
def test_a_sco_navigation_request_is_followed(make_player: Any, open_tab: Any) -> None:
    course = course_2004()
    course.scos = [sco("s1", "Discovery"), sco("s2", "Proposal")]
    player = make_player(course)
    tab = open_tab(player.launch_url("s1"))
    frame = tab.sco_frame()
    assert frame.evaluate("sco.set('adl.nav.request', 'continue')") == "true"
    assert frame.evaluate("sco.finish()") == "true"
    tab.page.wait_for_url("**sco=s2")
    assert tab.sco_frame().evaluate("window.report.values['cmi.entry']") == "ab-initio"
    assert player.wait_commits(1)[0].json["terminated"] is True


# ---------------------------------------------------------------------------------------------------------------------
# The template alone


def render(config_overrides: dict[str, Any], **context: Any) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)
    config: dict[str, Any] = {
        "standard": "scorm12", "attemptId": "a1", "scoId": "s1", "commitUrl": "/c?token=x", "launchUrl": "/l?token=x",
        "cmi": {}, "navigation": {"choice": True, "flow": True}, "exitUrl": None, "assetBase": "/content/player/",
        "status": {"completion": "not attempted", "success": None, "score": None},
        "scos": [sco("s1", "One"), sco("s2", "Two"), sco("s3", "Three")],
    }
    config.update(config_overrides)
    brand = {"name": "Acme", "primaryColor": "#000", "accentColor": "#fff", "textColor": "#fff", "logoUrl": "/l.svg"}
    return env.get_template("player.html").render(brand=context.get("brand", brand),
                                                  course_title=context.get("course_title", "Course"), config=config)


def test_template_shows_neighbours_only_when_flow_allows() -> None:
    middle = render({"scoId": "s2"})
    assert 'data-testid="nav-prev" data-sco="s1"' in middle and 'data-testid="nav-next" data-sco="s3"' in middle
    first = render({"scoId": "s1"})
    assert 'data-testid="nav-prev"' not in first and 'data-testid="nav-next" data-sco="s2"' in first
    no_flow = render({"scoId": "s2", "navigation": {"choice": True, "flow": False}})
    assert 'data-testid="nav-prev"' not in no_flow and 'data-testid="nav-next"' not in no_flow
    assert 'data-testid="nav-exit"' in no_flow


def test_template_lists_scos_only_when_choice_allows_and_there_are_several() -> None:
    assert 'data-testid="sco-choice"' in render({})
    assert 'data-testid="sco-choice"' not in render({"navigation": {"choice": False, "flow": True}})
    assert 'data-testid="sco-choice"' not in render({"scos": [sco("s1", "Only")]})
    odd = render({"scos": [sco("s1", "One"), sco("a&b=c #d", "Odd")]})
    assert 'href="/l?token=x&amp;sco=a%26b%3Dc%20%23d"' in odd


def test_template_escapes_everything_and_keeps_the_config_inert() -> None:
    hostile = "</script><script>alert(1)</script>"
    html = render({"scos": [sco("s1", hostile)], "cmi": {"suspend_data": hostile}},
                  course_title="<img src=x onerror=alert(1)>",
                  brand={"name": '"><b>', "primaryColor": "red;}", "accentColor": "", "textColor": "", "logoUrl": ""})
    assert "<img src=x" not in html and "<b>" not in html
    assert html.count("<script") == 2  # the JSON config and player.js, nothing injected
    start = html.index('<script type="application/json" id="player-config">') + len(
        '<script type="application/json" id="player-config">')
    config = json.loads(html[start:html.index("</script>", start)])
    assert config["cmi"]["suspend_data"] == hostile and config["scos"][0]["title"] == hostile
    assert 'class="player-logo"' not in html  # no logo URL, no image


def status_text(html: str) -> str:
    return html.split('data-testid="course-status"')[1].split(">", 1)[1].split("</p>")[0].strip()


@pytest.mark.parametrize(("status", "text"), [
    ({"completion": "completed", "success": "passed", "score": 87.4}, "Completed · Passed · 87%"),
    ({"completion": "in_progress", "success": None, "score": None}, "In progress"),
    ({"completion": "incomplete", "success": None, "score": 0}, "In progress · 0%"),
    ({"completion": "failed", "success": "failed", "score": 40.0}, "Not passed · 40%"),
    ({"completion": "not attempted", "success": None, "score": None}, "Not started"),
    ({}, "Not started"),
])
def test_template_renders_the_rolled_up_status(status: dict[str, Any], text: str) -> None:
    html = render({"status": status})
    assert status_text(html) == text
    assert f'data-completion="{status.get("completion") or ""}"' in html
