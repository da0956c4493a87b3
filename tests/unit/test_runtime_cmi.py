"""chalicelib.content.runtime: scorm-again commit bodies in, loadFromJSON resume data out, SCORM timespans.

The bodies below were captured from scorm-again 3.4.3 in Chromium by the player browser test
(tests/browser/test_player_page.py): the SCO resumed, set values and committed (fetch/XHR, application/json), then the
page closed and the player terminated it (navigator.sendBeacon, text/plain, with "terminated": true and total_time).
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from chalicelib.content.runtime import (
    MAX_CMI_BYTES,
    Commit,
    format_duration,
    parse_commit,
    parse_duration,
    resume_cmi,
)
from chalicelib.errors import ValidationFailed

# fmt: off
COMMIT_12 = (
    r'{"cmi":{"suspend_data":"chapter=4","launch_data":"mode=sales","comments":"first try","comments_from_'
    r'lms":"","core":{"student_id":"u-42","student_name":"Doe, Jane","lesson_location":"page-4","credit":"'
    r'credit","lesson_status":"completed","entry":"resume","lesson_mode":"normal","exit":"suspend","sessio'
    r'n_time":"00:05:00","score":{"raw":"90","min":"","max":"100"}},"objectives":{"0":{"id":"obj-1","statu'
    r's":"passed","score":{"raw":"40","min":"","max":"100"}}},"student_data":{"mastery_score":"80","max_ti'
    r'me_allowed":"","time_limit_action":""},"student_preference":{"audio":"","language":"en","speed":"","'
    r'text":""},"interactions":{"0":{"id":"q1","time":"10:00:00","type":"choice","weighting":"","student_r'
    r'esponse":"b","result":"wrong","latency":"00:00:12","objectives":{},"correct_responses":{"0":{"patter'
    r'n":"a"}}},"1":{"id":"q2","time":"","type":"true-false","weighting":"","student_response":"t","result'
    r'":"correct","latency":"","objectives":{"0":{"id":"obj-1"}},"correct_responses":{"0":{"pattern":"t"}}'
    r'}}}}'
)
BEACON_12 = (
    r'{"cmi":{"suspend_data":"chapter=4","launch_data":"mode=sales","comments":"first try","comments_from_'
    r'lms":"","core":{"student_id":"u-42","student_name":"Doe, Jane","lesson_location":"page-4","credit":"'
    r'credit","lesson_status":"completed","entry":"resume","lesson_mode":"normal","exit":"suspend","sessio'
    r'n_time":"00:05:00","score":{"raw":"90","min":"","max":"100"},"total_time":"01:07:05.5"},"objectives"'
    r':{"0":{"id":"obj-1","status":"passed","score":{"raw":"40","min":"","max":"100"}}},"student_data":{"m'
    r'astery_score":"80","max_time_allowed":"","time_limit_action":""},"student_preference":{"audio":"","l'
    r'anguage":"en","speed":"","text":""},"interactions":{"0":{"id":"q1","time":"10:00:00","type":"choice"'
    r',"weighting":"","student_response":"b","result":"wrong","latency":"00:00:12","objectives":{},"correc'
    r't_responses":{"0":{"pattern":"a"}}},"1":{"id":"q2","time":"","type":"true-false","weighting":"","stu'
    r'dent_response":"t","result":"correct","latency":"","objectives":{"0":{"id":"obj-1"}},"correct_respon'
    r'ses":{"0":{"pattern":"t"}}}}},"terminated":true}'
)
COMMIT_2004 = (
    r'{"cmi":{"comments_from_learner":{"0":{"comment":"hard one","location":"slide-2","timestamp":"2025-01'
    r'-02T10:00:00"}},"comments_from_lms":{},"completion_status":"completed","completion_threshold":"0.75"'
    r',"credit":"credit","entry":"resume","exit":"suspend","interactions":{"0":{"id":"q1","type":"choice",'
    r'"objectives":{"0":{"id":"obj-a"}},"timestamp":"2025-01-02T10:01:00","weighting":"1","learner_respons'
    r'e":"b","result":"incorrect","latency":"PT12S","description":"","correct_responses":{"0":{"pattern":"'
    r'a"}}},"1":{"id":"q2","type":"true-false","objectives":{},"timestamp":"","weighting":"","learner_resp'
    r'onse":"true","result":"correct","latency":"","description":"","correct_responses":{"0":{"pattern":"t'
    r'rue"}}}},"launch_data":"mode=sales","learner_id":"u-42","learner_name":"Jane Doe","learner_preferenc'
    r'e":{"audio_level":"0.5","language":"","delivery_speed":"1","audio_captioning":"0"},"location":"slide'
    r'-9","max_time_allowed":"","mode":"normal","objectives":{"0":{"id":"obj-a","success_status":"failed",'
    r'"completion_status":"incomplete","progress_measure":"","description":"","score":{"scaled":"0.4","raw'
    r'":"","min":"","max":""}}},"progress_measure":"1","scaled_passing_score":"0.8","score":{"scaled":"0.9'
    r'","raw":"90","min":"0","max":"100"},"session_time":"PT5M","success_status":"passed","suspend_data":"'
    r'{\"slide\":7}","time_limit_action":"continue,no message"}}'
)
# The terminate beacon: the same body, plus the total time scorm-again computed and the terminate flag.
BEACON_2004 = json.dumps({"cmi": {**json.loads(COMMIT_2004)["cmi"], "total_time": "PT6M30S"}, "terminated": True},
                         separators=(",", ":"))
# fmt: on


def body(raw: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def failure(standard: str, payload: Any, mastery: float | None = None) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as info:
        parse_commit(standard, payload, mastery)
    assert info.value.errors, "a ValidationFailed always names what is wrong"
    return info.value.errors


def fields(errors: list[dict[str, Any]]) -> list[str]:
    return [e["field"] for e in errors]


def strings_only(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and strings_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(strings_only(v) for v in value)
    return isinstance(value, str) and value != ""


# ---------------------------------------------------------------------------------------------------------------------
# Durations


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:00:00", 0), ("00:05:00", 300), ("01:02:05.5", 3725.5), ("0000:10:00.25", 600.25), ("9999:59:59.99",
     9999 * 3600 + 3599.99), ("12345:00:00", 12345 * 3600), ("1:00:00", 3600),
])
def test_parse_duration_scorm12(text: str, seconds: float) -> None:
    assert parse_duration("scorm12", text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "00:60:00", "00:00:60", "1:2:3", "00:00:00.123", "00:00", "PT1S", " 00:00:01",
                                  "00:00:01 ", "-1:00:00", "aa:bb:cc"])
def test_parse_duration_scorm12_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration("scorm12", text)


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT0H0M0S", 0), ("PT0S", 0), ("PT5M", 300), ("PT1H2M5.5S", 3725.5), ("PT0.05S", 0.05), ("P1DT1H", 90000),
    ("P1Y2M3W4DT5H6M7S", 365 * 86400 + 2 * 30 * 86400 + 3 * 7 * 86400 + 4 * 86400 + 5 * 3600 + 6 * 60 + 7),
    ("PT1.5H", 5400), ("PT1,5H", 5400), ("PT25H", 90000), ("P", 0), ("PT", 0), ("P1H", 3600),
    ("P1D2H", 93600), ("P1S", 1),  # scorm-again tolerates a missing T
])
def test_parse_duration_scorm2004_follows_scorm_again(text: str, seconds: float) -> None:
    assert parse_duration("scorm2004", text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1H", "T1H", "PT1.234S", "PT-1S", "P1.2.3D", "PT1S ", "00:00:01", "PTS",
                                  "PT1S1M", "P1S1D"])
def test_parse_duration_scorm2004_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration("scorm2004", text)


def test_parse_duration_rejects_non_strings_and_unknown_standards() -> None:
    with pytest.raises(ValueError):
        parse_duration("scorm12", 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_duration("cmi5", "PT1S")


@pytest.mark.parametrize(("seconds", "scorm12", "scorm2004"), [
    (0, "00:00:00", "PT0S"), (0.05, "00:00:00.05", "PT0.05S"), (60, "00:01:00", "PT1M"),
    (3725.5, "01:02:05.50", "PT1H2M5.5S"), (59.999, "00:01:00", "PT1M"), (90000, "25:00:00", "PT25H"),
    (3600.1, "01:00:00.10", "PT1H0.1S"), (1e9, "9999:59:59.99", "PT277777H46M40S"),
])
def test_format_duration(seconds: float, scorm12: str, scorm2004: str) -> None:
    assert format_duration("scorm12", seconds) == scorm12
    assert format_duration("scorm2004", seconds) == scorm2004


@pytest.mark.parametrize("seconds", [0, 0.01, 1, 59.99, 61.5, 3599.99, 86399.5, 123456.78])
def test_format_then_parse_round_trips(seconds: float) -> None:
    for standard in ("scorm12", "scorm2004"):
        assert parse_duration(standard, format_duration(standard, seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf, True, "60"])
def test_format_duration_rejects(seconds: Any) -> None:
    with pytest.raises(ValueError):
        format_duration("scorm2004", seconds)


# ---------------------------------------------------------------------------------------------------------------------
# SCORM 1.2 commits


def test_scorm12_commit_as_captured() -> None:
    commit = parse_commit("scorm12", COMMIT_12.encode(), 80)
    assert isinstance(commit, Commit) and not commit.terminated
    # The SCO reported "completed" with raw 90 and the LMS has a mastery score of 80: judged passed.
    assert (commit.completion, commit.success) == ("completed", "passed")
    assert commit.score == {"raw": 90.0, "max": 100.0}
    assert commit.session_seconds == 300
    assert (commit.location, commit.suspend_data, commit.exit) == ("page-4", "chapter=4", "suspend")
    assert commit.interactions == [
        {"id": "q1", "type": "choice", "time": "10:00:00", "student_response": "b", "result": "wrong",
         "latency": "00:00:12", "correct_responses": [{"pattern": "a"}]},
        {"id": "q2", "type": "true-false", "student_response": "t", "result": "correct",
         "objectives": [{"id": "obj-1"}], "correct_responses": [{"pattern": "t"}]},
    ]
    # Learner-writable data only: no learner, credit, entry, mode, launch data, LMS comments, student_data,
    # session time or total time. The judged status is what the SCO reads back next time.
    assert commit.cmi == {
        "core": {"lesson_location": "page-4", "lesson_status": "passed", "exit": "suspend",
                 "score": {"raw": "90", "max": "100"}},
        "suspend_data": "chapter=4",
        "comments": "first try",
        "objectives": [{"id": "obj-1", "status": "passed", "score": {"raw": "40", "max": "100"}}],
        "student_preference": {"language": "en"},
        "interactions": commit.interactions,
    }


def test_scorm12_terminate_beacon_as_captured() -> None:
    commit = parse_commit("scorm12", BEACON_12.encode(), 80)
    assert commit.terminated
    assert (commit.completion, commit.success, commit.session_seconds) == ("completed", "passed", 300)
    assert "total_time" not in commit.cmi["core"]  # LMS-owned: the service keeps the total
    assert commit.cmi == parse_commit("scorm12", COMMIT_12, 80).cmi


def test_body_may_be_bytes_text_or_a_parsed_object() -> None:
    as_bytes = parse_commit("scorm12", b"\xef\xbb\xbf" + BEACON_12.encode(), 80)  # a BOM is tolerated
    assert parse_commit("scorm12", BEACON_12, 80) == as_bytes
    assert parse_commit("scorm12", body(BEACON_12), 80) == as_bytes
    assert parse_commit("scorm12", bytearray(BEACON_12.encode()), 80) == as_bytes  # type: ignore[arg-type]


def test_scorm12_without_mastery_completed_stays_completed() -> None:
    commit = parse_commit("scorm12", COMMIT_12, None)
    assert (commit.completion, commit.success) == ("completed", None)
    assert commit.cmi["core"]["lesson_status"] == "completed"


def test_scorm12_mastery_judges_a_low_score_failed() -> None:
    commit = parse_commit("scorm12", COMMIT_12, 95)
    assert (commit.completion, commit.success) == ("completed", "failed")
    assert commit.cmi["core"]["lesson_status"] == "failed"


@pytest.mark.parametrize(("credit", "mode"), [("no-credit", "normal"), ("credit", "browse"), ("credit", "review")])
def test_scorm12_mastery_applies_only_for_credit_in_normal_mode(credit: str, mode: str) -> None:
    data = body(COMMIT_12)
    data["cmi"]["core"].update(credit=credit, lesson_mode=mode)
    commit = parse_commit("scorm12", data, 80)
    assert (commit.completion, commit.success) == ("completed", None)


def test_scorm12_sco_reported_pass_or_fail_stands() -> None:
    data = body(COMMIT_12)
    data["cmi"]["core"]["lesson_status"] = "failed"
    assert (parse_commit("scorm12", data, 80).completion, parse_commit("scorm12", data, 80).success) == (
        "completed", "failed")


@pytest.mark.parametrize(("status", "completion", "success"), [
    ("passed", "completed", "passed"), ("failed", "completed", "failed"), ("completed", "completed", None),
    ("incomplete", "incomplete", None), ("browsed", "incomplete", None), ("not attempted", "not attempted", None),
])
def test_scorm12_lesson_status_mapping(status: str, completion: str, success: str | None) -> None:
    commit = parse_commit("scorm12", {"cmi": {"core": {"lesson_status": status}}}, None)
    assert (commit.completion, commit.success) == (completion, success)
    assert commit.cmi == {"core": {"lesson_status": status}}


def test_scorm12_terminating_without_a_status_is_incomplete() -> None:
    commit = parse_commit("scorm12", {"cmi": {"core": {"lesson_status": "not attempted"}}, "terminated": True}, None)
    assert commit.terminated and commit.completion == "incomplete"
    assert commit.cmi["core"]["lesson_status"] == "incomplete"


def test_scorm12_score_needs_a_raw_score() -> None:
    commit = parse_commit("scorm12", {"cmi": {"core": {"score": {"raw": "", "min": "", "max": "100"}}}}, 80)
    assert commit.score is None and commit.success is None


def test_numbers_may_arrive_as_json_numbers() -> None:
    commit = parse_commit("scorm12", {"cmi": {"core": {"lesson_status": "completed",
                                                       "score": {"raw": 85, "min": 0, "max": 100.0}}}}, 80)
    assert commit.score == {"raw": 85.0, "min": 0.0, "max": 100.0} and commit.success == "passed"
    assert commit.cmi["core"]["score"] == {"raw": "85", "min": "0", "max": "100"}


def test_scorm12_exit_normal_is_read_as_a_normal_exit() -> None:
    assert parse_commit("scorm12", {"cmi": {"core": {"exit": "normal"}}}, None).exit == ""


def test_absent_elements_are_none() -> None:
    commit = parse_commit("scorm12", {"cmi": {}}, 80)
    assert commit == Commit(completion=None, success=None, score=None, session_seconds=None, location=None,
                            suspend_data=None, exit=None, interactions=[], cmi={}, terminated=False)


# ---------------------------------------------------------------------------------------------------------------------
# SCORM 2004 commits


def test_scorm2004_commit_as_captured() -> None:
    commit = parse_commit("scorm2004", COMMIT_2004.encode(), 0.8, completion_threshold=0.75)
    assert not commit.terminated
    assert (commit.completion, commit.success) == ("completed", "passed")
    assert commit.score == {"scaled": 0.9, "raw": 90.0, "min": 0.0, "max": 100.0}
    assert commit.session_seconds == 300
    assert (commit.location, commit.suspend_data, commit.exit) == ("slide-9", '{"slide":7}', "suspend")
    assert [i["id"] for i in commit.interactions] == ["q1", "q2"]
    assert commit.interactions[0] == {
        "id": "q1", "type": "choice", "timestamp": "2025-01-02T10:01:00", "weighting": "1", "learner_response": "b",
        "result": "incorrect", "latency": "PT12S", "objectives": [{"id": "obj-a"}],
        "correct_responses": [{"pattern": "a"}]}
    assert commit.cmi == {
        "completion_status": "completed", "success_status": "passed", "exit": "suspend", "location": "slide-9",
        "suspend_data": '{"slide":7}', "progress_measure": "1",
        "score": {"scaled": "0.9", "raw": "90", "min": "0", "max": "100"},
        "learner_preference": {"audio_level": "0.5", "delivery_speed": "1", "audio_captioning": "0"},
        "comments_from_learner": [{"comment": "hard one", "location": "slide-2", "timestamp": "2025-01-02T10:00:00"}],
        "objectives": [{"id": "obj-a", "success_status": "failed", "completion_status": "incomplete",
                        "score": {"scaled": "0.4"}}],
        "interactions": commit.interactions,
    }


def test_scorm2004_terminate_beacon_as_captured() -> None:
    commit = parse_commit("scorm2004", BEACON_2004, 0.8)
    assert commit.terminated and "total_time" not in commit.cmi
    assert commit.cmi == parse_commit("scorm2004", COMMIT_2004, 0.8).cmi


def test_scorm2004_thresholds_override_the_sco_when_the_measures_are_reported() -> None:
    data = body(COMMIT_2004)
    data["cmi"].update(progress_measure="0.5", score={"scaled": "0.5"})
    commit = parse_commit("scorm2004", data, 0.8, completion_threshold=0.75)
    assert (commit.completion, commit.success) == ("incomplete", "failed")
    assert (commit.cmi["completion_status"], commit.cmi["success_status"]) == ("completed", "passed")  # as reported
    data["cmi"].update(progress_measure="", score={"scaled": "", "raw": "50"})
    commit = parse_commit("scorm2004", data, 0.8, completion_threshold=0.75)
    assert (commit.completion, commit.success) == ("completed", "passed")  # nothing to judge: the SCO's values
    assert commit.score == {"raw": 50.0}


def test_scorm2004_unknown_statuses() -> None:
    commit = parse_commit("scorm2004", {"cmi": {"completion_status": "unknown", "success_status": "unknown",
                                                "session_time": "PT0H0M0S", "exit": ""}}, None)
    assert (commit.completion, commit.success, commit.session_seconds, commit.exit) == ("unknown", "unknown", 0, "")
    assert commit.cmi == {"completion_status": "unknown", "success_status": "unknown"}


# ---------------------------------------------------------------------------------------------------------------------
# Envelopes scorm-again can also produce


def test_render_common_commit_fields_envelope() -> None:
    envelope = {"successStatus": "passed", "completionStatus": "completed", "totalTimeSeconds": 402,
                "runtimeData": body(BEACON_2004), "score": {"scaled": 0.9}}
    commit = parse_commit("scorm2004", envelope, 0.8)
    assert commit.terminated and commit.completion == "completed" and commit.location == "slide-9"


def test_flattened_body() -> None:
    flat = {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "95", "cmi.core.lesson_location": "p2",
            "cmi.interactions.0.id": "q1", "cmi.interactions.0.result": "correct", "terminated": True}
    commit = parse_commit("scorm12", flat, None)
    assert (commit.completion, commit.success, commit.location, commit.terminated) == (
        "completed", "passed", "p2", True)
    assert commit.interactions == [{"id": "q1", "result": "correct"}]


def test_interactions_may_be_a_list_and_empty_entries_close_up() -> None:
    commit = parse_commit("scorm2004", {"cmi": {"interactions": [None, {}, {"id": "q9", "type": "other"}]}}, None)
    assert commit.interactions == [{"id": "q9", "type": "other"}]
    commit = parse_commit("scorm2004", {"cmi": {"interactions": {"10": {"id": "b"}, "2": {"id": "a"}}}}, None)
    assert [i["id"] for i in commit.interactions] == ["a", "b"]


# ---------------------------------------------------------------------------------------------------------------------
# Malformed bodies


@pytest.mark.parametrize("payload", [b"{", b"", "not json", b"\xff\xfe", '{"cmi": {"core": {"score": {"raw": NaN}}}}',
                                     "[" * 100_000])
def test_not_json(payload: Any) -> None:
    assert fields(failure("scorm12", payload)) == ["body"]


@pytest.mark.parametrize("payload", ["[]", "1", "null", '"text"', [], None])
def test_not_an_object(payload: Any) -> None:
    errors = failure("scorm12", payload)
    assert errors == [{"field": "body", "pointer": "#", "detail": "must be a JSON object"}]


@pytest.mark.parametrize("payload", [{}, {"data": 1}, {"cmi": []}, {"cmi": "x"}, {"runtimeData": {}}])
def test_missing_or_misshapen_cmi(payload: Any) -> None:
    assert fields(failure("scorm2004", payload)) == ["cmi"]


@pytest.mark.parametrize(("standard", "cmi", "field"), [
    ("scorm12", {"core": {"score": {"raw": "abc"}}}, "cmi.core.score.raw"),
    ("scorm12", {"core": {"score": {"raw": "1e5"}}}, "cmi.core.score.raw"),
    ("scorm12", {"core": {"score": {"raw": True}}}, "cmi.core.score.raw"),
    ("scorm12", {"core": {"score": {"max": [1]}}}, "cmi.core.score.max"),
    ("scorm12", {"core": {"score": {"raw": "1" * 400}}}, "cmi.core.score.raw"),
    ("scorm12", {"core": {"score": {"raw": 10**400}}}, "cmi.core.score.raw"),
    ("scorm12", {"core": {"score": "90"}}, "cmi.core.score"),
    ("scorm12", {"core": "x"}, "cmi.core"),
    ("scorm12", {"core": {"lesson_status": "done"}}, "cmi.core.lesson_status"),
    ("scorm12", {"core": {"lesson_status": "unknown"}}, "cmi.core.lesson_status"),
    ("scorm12", {"core": {"exit": "quit"}}, "cmi.core.exit"),
    ("scorm12", {"core": {"session_time": "5 minutes"}}, "cmi.core.session_time"),
    ("scorm12", {"core": {"session_time": "PT5M"}}, "cmi.core.session_time"),
    ("scorm12", {"core": {"session_time": 300}}, "cmi.core.session_time"),
    ("scorm12", {"core": {"lesson_location": {"page": 1}}}, "cmi.core.lesson_location"),
    ("scorm12", {"suspend_data": ["x"]}, "cmi.suspend_data"),
    ("scorm12", {"interactions": "q1"}, "cmi.interactions"),
    ("scorm12", {"interactions": {"first": {"id": "q1"}}}, "cmi.interactions"),
    ("scorm12", {"interactions": {"0": "q1"}}, "cmi.interactions.0"),
    ("scorm12", {"objectives": {"0": {"status": "great"}}}, "cmi.objectives.0.status"),
    ("scorm2004", {"completion_status": "passed"}, "cmi.completion_status"),
    ("scorm2004", {"success_status": "completed"}, "cmi.success_status"),
    ("scorm2004", {"session_time": "00:05:00"}, "cmi.session_time"),
    ("scorm2004", {"score": {"scaled": "1.5"}}, "cmi.score.scaled"),
    ("scorm2004", {"score": {"scaled": "-inf"}}, "cmi.score.scaled"),
    ("scorm2004", {"progress_measure": "half"}, "cmi.progress_measure"),
    ("scorm2004", {"exit": "bye"}, "cmi.exit"),
    ("scorm2004", {"interactions": {"0": {"id": "q1", "correct_responses": {"0": "a"}}}},
     "cmi.interactions.0.correct_responses.0"),
])
def test_invalid_values_name_the_element(standard: str, cmi: dict[str, Any], field: str) -> None:
    errors = failure(standard, {"cmi": cmi})
    assert fields(errors) == [field]
    assert errors[0]["pointer"] == "#/" + field.replace(".", "/")


def test_every_problem_is_reported_once() -> None:
    errors = failure("scorm12", {"cmi": {"core": {"lesson_status": "done", "score": {"raw": "x", "min": "y"},
                                                  "session_time": "soon"}}})
    assert fields(errors) == ["cmi.core.lesson_status", "cmi.core.score.raw", "cmi.core.score.min",
                              "cmi.core.session_time"]


def test_unknown_standard() -> None:
    assert fields(failure("cmi5", COMMIT_12)) == ["standard"]


def test_stored_data_is_capped() -> None:
    fits = {"cmi": {"suspend_data": "x" * 64000, "core": {"lesson_location": "p" * 200}}}
    assert len(parse_commit("scorm12", fits, None).cmi["suspend_data"]) == 64000
    too_big = {"cmi": {"suspend_data": "x" * 64000,
                       "interactions": {str(i): {"id": f"q{i}", "student_response": "r" * 200} for i in range(20)}}}
    errors = failure("scorm12", too_big)
    assert fields(errors) == ["cmi"] and str(MAX_CMI_BYTES) in errors[0]["detail"]


def test_the_cap_counts_utf8_bytes() -> None:
    data = {"cmi": {"suspend_data": "é" * 40000}}  # 40 000 characters, 80 000 bytes
    assert fields(failure("scorm2004", data)) == ["cmi"]


def _junk(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 10**30, 1.5, -0.0, 1e308])
    if choice == 3:
        return rng.choice(["", "completed", "passed", "suspend", "00:00:01", "PT1S", "0.5", "abc", "0", "é", "1e3"])
    if choice == 4:
        return rng.choice(["id", "type", "core", "score", "raw"])
    if choice == 5:
        return str(rng.random())
    if choice == 6:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(3))]
    keys = ["cmi", "core", "score", "raw", "scaled", "min", "max", "lesson_status", "completion_status",
            "success_status", "exit", "session_time", "interactions", "objectives", "0", "1", "id", "type",
            "correct_responses", "pattern", "suspend_data", "location", "lesson_location", "progress_measure",
            "student_preference", "learner_preference", "comments_from_learner", "runtimeData", "terminated"]
    return {rng.choice(keys): _junk(rng, depth + 1) for _ in range(rng.randrange(5))}


@pytest.mark.parametrize("standard", ["scorm12", "scorm2004"])
def test_junk_raises_validation_failed_and_nothing_else(standard: str) -> None:
    rng = random.Random(20251123)
    outcomes = {"ok": 0, "invalid": 0}
    for _ in range(3000):
        payload = {"cmi": _junk(rng)} if rng.random() < 0.7 else _junk(rng)
        for candidate in (payload, json.dumps(payload)):
            try:
                commit = parse_commit(standard, candidate, rng.choice([None, 80, 0.5]),
                                      completion_threshold=rng.choice([None, 0.5]))
            except ValidationFailed as e:
                assert e.errors and all({"field", "pointer", "detail"} <= set(err) for err in e.errors)
                outcomes["invalid"] += 1
            else:
                assert isinstance(commit, Commit) and strings_only(commit.cmi) or commit.cmi == {}
                resume_cmi(standard, commit.cmi, learner_id="u", learner_name="n", total_seconds=1, mastery=None,
                           completion_threshold=None, launch_data=None)
                outcomes["ok"] += 1
    assert outcomes["ok"] > 100 and outcomes["invalid"] > 100


# ---------------------------------------------------------------------------------------------------------------------
# Resume


def resume(standard: str, stored: dict[str, Any] | None, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"learner_id": "u-42", "learner_name": "Doe, Jane", "total_seconds": 3725.5,
                            "mastery": None, "completion_threshold": None, "launch_data": None}
    args.update(overrides)
    return resume_cmi(standard, stored, **args)


def test_scorm12_first_launch() -> None:
    assert resume("scorm12", None, mastery=80, launch_data="mode=sales") == {
        "core": {"student_id": "u-42", "student_name": "Doe, Jane", "credit": "credit", "entry": "ab-initio",
                 "total_time": "01:02:05.50"},
        "student_data": {"mastery_score": "80"},
        "launch_data": "mode=sales",
    }
    assert resume("scorm12", {})["core"]["entry"] == "ab-initio"


def test_scorm12_resume_after_suspend() -> None:
    stored = parse_commit("scorm12", BEACON_12, 80).cmi
    cmi = resume("scorm12", stored, mastery=80, total_seconds=4025.5)
    assert cmi == {
        "core": {"student_id": "u-42", "student_name": "Doe, Jane", "credit": "credit", "entry": "resume",
                 "total_time": "01:07:05.50", "lesson_location": "page-4", "lesson_status": "passed",
                 "score": {"raw": "90", "max": "100"}},
        "student_data": {"mastery_score": "80"},
        "suspend_data": "chapter=4",
        "comments": "first try",
        "objectives": [{"id": "obj-1", "status": "passed", "score": {"raw": "40", "max": "100"}}],
        "student_preference": {"language": "en"},
        "interactions": stored["interactions"],
    }
    assert strings_only(cmi)


def test_scorm12_entry_after_a_normal_exit_is_empty() -> None:
    stored = {"core": {"lesson_location": "p1", "exit": "logout"}}
    cmi = resume("scorm12", stored)
    assert cmi["core"]["entry"] == "" and "exit" not in cmi["core"]
    assert resume("scorm12", {"core": {"lesson_location": "p1"}})["core"]["entry"] == ""


def test_scorm12_no_credit_and_values_scorm_again_would_refuse() -> None:
    cmi = resume("scorm12", None, credit=False, mastery=150, launch_data="")
    assert cmi == {"core": {"student_id": "u-42", "student_name": "Doe, Jane", "credit": "no-credit",
                            "entry": "ab-initio", "total_time": "01:02:05.50"}}
    assert resume("scorm12", None, mastery=0)["student_data"] == {"mastery_score": "0"}


def test_resume_keeps_only_learner_writable_values() -> None:
    raw = body(COMMIT_12)["cmi"]  # a raw body: learner, credit, mode and student_data must not come back
    raw["core"]["student_id"] = "someone-else"
    raw["core"]["session_time"] = "10:00:00"
    cmi = resume("scorm12", raw)
    assert cmi["core"]["student_id"] == "u-42" and "session_time" not in cmi["core"]
    assert "student_data" not in cmi and "launch_data" not in cmi and "comments_from_lms" not in cmi
    assert cmi["core"]["entry"] == "resume"


def test_resume_drops_invalid_stored_values_instead_of_failing() -> None:
    cmi = resume("scorm12", {"core": {"lesson_status": "done", "lesson_location": "p", "score": {"raw": "x"}},
                             "interactions": "junk"})
    assert cmi["core"]["lesson_location"] == "p"
    assert "lesson_status" not in cmi["core"] and "score" not in cmi["core"] and "interactions" not in cmi


@pytest.mark.parametrize("total", [-5, math.nan, math.inf])
def test_resume_with_a_nonsense_total_time(total: float) -> None:
    assert resume("scorm12", None, total_seconds=total)["core"]["total_time"] == "00:00:00"
    assert resume("scorm2004", None, total_seconds=total)["total_time"] == "PT0S"


def test_scorm2004_first_launch() -> None:
    assert resume("scorm2004", None, mastery=0.8, completion_threshold=0.75, total_seconds=90,
                  launch_data="mode=sales") == {
        "learner_id": "u-42", "learner_name": "Doe, Jane", "credit": "credit", "entry": "ab-initio",
        "total_time": "PT1M30S", "scaled_passing_score": "0.8", "completion_threshold": "0.75",
        "launch_data": "mode=sales",
    }


def test_scorm2004_resume_after_suspend() -> None:
    stored = parse_commit("scorm2004", BEACON_2004, 0.8).cmi
    cmi = resume("scorm2004", stored, mastery=0.8, credit=False)
    assert cmi["entry"] == "resume" and cmi["credit"] == "no-credit" and "exit" not in cmi
    assert (cmi["location"], cmi["suspend_data"], cmi["completion_status"]) == ("slide-9", '{"slide":7}', "completed")
    assert cmi["interactions"] == stored["interactions"] and cmi["objectives"] == stored["objectives"]
    assert cmi["learner_preference"] == {"audio_level": "0.5", "delivery_speed": "1", "audio_captioning": "0"}
    assert strings_only(cmi)


def test_scorm2004_thresholds_outside_their_ranges_are_left_out() -> None:
    cmi = resume("scorm2004", None, mastery=2, completion_threshold=-0.1)
    assert "scaled_passing_score" not in cmi and "completion_threshold" not in cmi
    cmi = resume("scorm2004", None, mastery=-1, completion_threshold=1e-7)
    assert (cmi["scaled_passing_score"], cmi["completion_threshold"]) == ("-1", "0.0000001")


def test_resume_unknown_standard() -> None:
    with pytest.raises(ValueError):
        resume("aicc", None)
