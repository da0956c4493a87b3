"""SCORM run-time data in and out of the player (pure: no AWS, no I/O).

The player (chalicelib/templates/player.html + content_bucket/player/player.js) runs scorm-again 3.4.3 with
`dataCommitFormat: "json"`, `sendFullCommit: true`, `renderCommonCommitFields: false` and
`terminateCommitPayloadField: "terminated"`, so every commit carries the SCO's whole run-time data:

    SCORM 1.2   {"cmi": {"suspend_data": "", "launch_data": "", "comments": "", "comments_from_lms": "",
                         "core": {"student_id": "", ..., "lesson_status": "incomplete", "exit": "",
                                  "session_time": "00:00:00", "score": {"raw": "", "min": "", "max": "100"}},
                         "objectives": {"0": {...}}, "student_data": {...}, "student_preference": {...},
                         "interactions": {"0": {...}}}}
    SCORM 2004  {"cmi": {"completion_status": "unknown", "success_status": "unknown", "location": "",
                         "session_time": "PT0H0M0S", "score": {"scaled": "", "raw": "", "min": "", "max": ""},
                         "interactions": {"0": {...}}, "objectives": {...}, ...}}

Arrays arrive as objects keyed "0", "1", ... and every value is a string. The terminate commit (LMSFinish /
Terminate, sent with navigator.sendBeacon as text/plain;charset=UTF-8) is the same JSON plus `"terminated": true`
and the LMS-owned total time scorm-again computed (`cmi.core.total_time` / `cmi.total_time` = loaded total + session).

parse_commit() reads such a body into a Commit; resume_cmi() builds the object the player hands to scorm-again's
`loadFromJSON` before the SCO starts. Decisions (SCORM 1.2 RTE 3.4, SCORM 2004 4th ed. RTE 4.2):

* 1.2 lesson_status: passed / failed / completed count as completion "completed" (failed: the learner finished and
  did not pass); incomplete -> "incomplete"; not attempted -> "not attempted", or "incomplete" on the terminate
  commit (the SCO was launched and exited without reporting, scorm-again's documented default); browsed ->
  "incomplete": browse mode is a no-credit preview (RTE 3.4.2.1.7), so it never counts towards completion.
* 1.2 success is "passed" / "failed" from lesson_status, else None (1.2 has no separate success element). When the
  SCO reports "completed" with a raw score, the LMS has a mastery score, the credit is "credit" and the mode is
  "normal", the LMS judges it: raw >= mastery -> "passed", else "failed" (RTE 3.4.2.1.7 / 3.4.2.4.1). The stored
  lesson_status becomes the judged one, so the SCO reads it back on resume.
* 2004: completion_status / success_status are the SCO's, except that a completion threshold with a reported
  progress_measure, and a scaled passing score (`mastery` for 2004) with a reported scaled score, override them
  (RTE 4.2.4.1 and 4.2.22.1). Without the reported measure the SCO's own value stands.
* A commit never downgrades anything by itself: keeping a completion once reached (a SCO that sets
  exit=suspend after completing) is the service's job across commits; Commit carries completion, exit and
  `terminated` for that.
* Validation accepts everything scorm-again accepts from a SCO (its setters already enforced the vocabularies), so a
  commit scorm-again produced never fails here; anything else (not JSON, not an object, unknown status, a score that
  is not a number, a duration that is not one) raises ValidationFailed with one field_error per problem.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import ValidationFailed, field_error

SCORM12 = "scorm12"
SCORM2004 = "scorm2004"
STANDARDS = (SCORM12, SCORM2004)

MAX_CMI_BYTES = 64 * 1024
"""Cap on the stored resume data: compact UTF-8 JSON of Commit.cmi."""

LESSON_STATUS_12 = ("passed", "completed", "failed", "incomplete", "browsed", "not attempted")
EXIT_12 = ("", "time-out", "suspend", "logout")
COMPLETION_2004 = ("completed", "incomplete", "not attempted", "unknown")
SUCCESS_2004 = ("passed", "failed", "unknown")
EXIT_2004 = ("", "time-out", "suspend", "logout", "normal")

_COMPLETION_FROM_12 = {"passed": "completed", "completed": "completed", "failed": "completed",
                       "incomplete": "incomplete", "browsed": "incomplete", "not attempted": "not attempted"}

# Learner-writable elements. scorm-again needs an interaction's id and type before the rest; the player restores that
# order before loadFromJSON (Jinja's tojson sorts keys), so the order here is only for readability.
_SCORE_12 = ("raw", "min", "max")
_SCORE_2004 = ("scaled", "raw", "min", "max")
_INTERACTION_12 = ("id", "type", "time", "weighting", "student_response", "result", "latency")
_INTERACTION_2004 = ("id", "type", "timestamp", "weighting", "learner_response", "result", "latency", "description")
_OBJECTIVE_2004 = ("id", "success_status", "completion_status", "progress_measure", "description")
_PREFERENCE_12 = ("audio", "language", "speed", "text")
_PREFERENCE_2004 = ("audio_level", "language", "delivery_speed", "audio_captioning")
_COMMENT_2004 = ("comment", "location", "timestamp")

_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_TIMESPAN_12 = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d{1,2})?)$")
# scorm-again's own CMITimespan for 2004 (ISO 8601 duration, weeks and a missing T tolerated), so every value it
# accepted from a SCO parses here too.
_TIMESPAN_2004 = re.compile(r"^P(?:([.,\d]+)Y)?(?:([.,\d]+)M)?(?:([.,\d]+)W)?(?:([.,\d]+)D)?"
                            r"(?:T?(?:([.,\d]+)H)?(?:([.,\d]+)M)?(?:(\d+(?:\.\d{1,2})?)S)?)?$")
_UNITS_2004 = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)
_MAX_SECONDS_12 = 9999 * 3600 + 59 * 60 + 59.99


@dataclass(frozen=True)
class Commit:
    """One commit from the player, in the standard's own terms where it has them."""

    completion: str | None
    """"completed" | "incomplete" | "not attempted" | "unknown"; None when the body carries no status."""
    success: str | None
    """"passed" | "failed" | "unknown"; None when the commit says nothing about success (1.2 without passed/failed)."""
    score: dict[str, float] | None
    """Any of raw, min, max, scaled; None unless the SCO reported a raw or a scaled score."""
    session_seconds: float | None
    location: str | None
    suspend_data: str | None
    exit: str | None
    interactions: list[dict[str, Any]]
    """Interactions as the standard names their fields, nested arrays as lists, empty values dropped."""
    cmi: dict[str, Any]
    """The learner-writable run-time data to store for resume (the shape resume_cmi reads); at most MAX_CMI_BYTES."""
    terminated: bool = False
    """True for the commit LMSFinish / Terminate sends (the beacon): the session is over."""


class _Errors:
    """Collects field errors; parse_commit raises them together, resume_cmi drops the offending values."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, path: str, detail: str) -> None:
        error = field_error(path, detail, pointer="#/" + path.replace(".", "/"))
        if error not in self.items:  # an element read twice (for the Commit and for the stored data) reports once
            self.items.append(error)


# ---------------------------------------------------------------------------------------------------------------------
# Durations


def parse_duration(standard: str, text: str) -> float:
    """Seconds in a SCORM timespan: 1.2 "HHHH:MM:SS.SS", 2004 ISO 8601 "P[nY][nM][nD][T[nH][nM][n[.n]S]]".

    1.2 hours take any number of digits (scorm-again pads to two and does not cap at four); 2004 follows
    scorm-again's grammar (weeks allowed; a year is 365 days, a month 30). Raises ValueError otherwise.
    """
    _check_standard(standard)
    if not isinstance(text, str):
        raise ValueError("a duration must be a string")
    if standard == SCORM12:
        m12 = _TIMESPAN_12.match(text)
        if m12 is None:
            raise ValueError(f"{text!r} is not a SCORM 1.2 timespan (HHHH:MM:SS.SS)")
        return int(m12.group(1)) * 3600 + int(m12.group(2)) * 60 + float(m12.group(3))
    m04 = _TIMESPAN_2004.match(text)
    if m04 is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration (P[nY][nM][nD][T[nH][nM][n[.n]S]])")
    total = 0.0
    for part, unit in zip(m04.groups(), _UNITS_2004, strict=True):
        if part:
            try:
                total += float(part.replace(",", ".")) * unit
            except ValueError:
                raise ValueError(f"{text!r} is not an ISO 8601 duration ({part!r} is not a number)") from None
    return total


def format_duration(standard: str, seconds: float) -> str:
    """A SCORM timespan for `seconds`, to the hundredth: 1.2 "HH:MM:SS[.SS]" (hours capped at 9999), 2004 "PT#H#M#S"."""
    _check_standard(standard)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{seconds!r} is not a non-negative number of seconds")
    if standard == SCORM12:
        seconds = min(float(seconds), _MAX_SECONDS_12)
    centis = round(seconds * 100)
    hours, centis = divmod(centis, 360000)
    minutes, centis = divmod(centis, 6000)
    whole, frac = divmod(centis, 100)
    if standard == SCORM12:
        return f"{hours:02d}:{minutes:02d}:{whole:02d}" + (f".{frac:02d}" if frac else "")
    secs = f"{whole}.{frac:02d}".rstrip("0") if frac else str(whole)
    out = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return out + (f"{secs}S" if (whole or frac or out == "PT") else "")


# ---------------------------------------------------------------------------------------------------------------------
# Commits


def parse_commit(standard: str, body: bytes | str | dict[str, Any], mastery: float | None, *,
                 completion_threshold: float | None = None) -> Commit:
    """Read one scorm-again commit body (the fetch/XHR JSON or the terminate beacon's text/plain JSON).

    `mastery` is the LMS's mastery score: for 1.2 cmi.student_data.mastery_score (0-100, compared with the raw
    score), for 2004 the scaled passing score (-1..1, compared with score.scaled). `completion_threshold` (2004) is
    compared with progress_measure. Also accepts scorm-again's renderCommonCommitFields envelope
    ({"runtimeData": {"cmi": ...}}) and its "flattened" format ({"cmi.core.lesson_status": ...}).
    Raises ValidationFailed (with one field_error per problem) and nothing else.
    """
    if standard not in STANDARDS:
        raise ValidationFailed("Unknown SCORM standard",
                               errors=[field_error("standard", f"must be one of {STANDARDS}")])
    envelope = _load_body(body)
    cmi, terminated = _unwrap(envelope)
    errors = _Errors()
    if standard == SCORM12:
        commit = _commit_12(cmi, mastery, terminated, errors)
    else:
        commit = _commit_2004(cmi, mastery, completion_threshold, terminated, errors)
    if errors.items:
        raise ValidationFailed("The run-time data is invalid", errors=errors.items)
    size = len(json.dumps(commit.cmi, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_CMI_BYTES:
        raise ValidationFailed("The run-time data is too large to store",
                               errors=[field_error("cmi", f"{size} bytes of run-time data; at most {MAX_CMI_BYTES}")])
    return commit


def _load_body(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("The commit body is not UTF-8",
                                   errors=[field_error("body", "is not UTF-8 text", pointer="#")]) from None
    if isinstance(body, str):
        try:
            body = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise ValidationFailed("The commit body is not JSON",
                                   errors=[field_error("body", "is not JSON", pointer="#")]) from None
    if not isinstance(body, dict):
        raise ValidationFailed("The commit body is not a JSON object",
                               errors=[field_error("body", "must be a JSON object", pointer="#")])
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unwrap(envelope: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    terminated = envelope.get("terminated") in (True, "true")
    runtime = envelope.get("runtimeData")
    if isinstance(runtime, dict):
        envelope = runtime
        terminated = terminated or runtime.get("terminated") in (True, "true")
    if "cmi" in envelope:
        cmi = envelope["cmi"]
    elif any(isinstance(k, str) and k.startswith("cmi.") for k in envelope):
        cmi = _unflatten({k[4:]: v for k, v in envelope.items() if isinstance(k, str) and k.startswith("cmi.")})
    else:
        raise ValidationFailed("The commit carries no run-time data", errors=[field_error("cmi", "is missing")])
    if not isinstance(cmi, dict):
        raise ValidationFailed("The run-time data is not an object", errors=[field_error("cmi", "must be an object")])
    return cmi, terminated


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return root


def _commit_12(cmi: dict[str, Any], mastery: float | None, terminated: bool, errors: _Errors) -> Commit:
    core = _obj(cmi, "core", "cmi.core", errors)
    status = _choice(core.get("lesson_status"), "cmi.core.lesson_status", LESSON_STATUS_12, errors)
    exit_ = _exit_12(core.get("exit"), errors)
    score = _scores(_obj(core, "score", "cmi.core.score", errors), "cmi.core.score", _SCORE_12, errors)
    completion = _COMPLETION_FROM_12.get(status) if status else None
    success = status if status in ("passed", "failed") else None
    if terminated and status == "not attempted":
        status, completion = "incomplete", "incomplete"
    raw = score.get("raw")
    credited = core.get("credit") != "no-credit" and core.get("lesson_mode") in (None, "", "normal")
    if status == "completed" and mastery is not None and raw is not None and credited:
        status = success = "passed" if raw >= mastery else "failed"
    suspend = _text(cmi.get("suspend_data", core.get("suspend_data")), "cmi.suspend_data", errors)
    stored = _writable_12(cmi, errors)
    if status:
        stored.setdefault("core", {})["lesson_status"] = status
    return Commit(
        completion=completion,
        success=success,
        score=score if ("raw" in score) else None,
        session_seconds=_duration(SCORM12, core.get("session_time"), "cmi.core.session_time", errors),
        location=_text(core.get("lesson_location"), "cmi.core.lesson_location", errors),
        suspend_data=suspend,
        exit=exit_,
        interactions=stored.get("interactions", []),
        cmi=stored,
        terminated=terminated,
    )


def _exit_12(value: Any, errors: _Errors) -> str | None:
    if value == "normal":  # scorm-again normalises the 2004 value to "" for 1.2
        return ""
    return _choice(value, "cmi.core.exit", EXIT_12, errors, empty_ok=True)


def _commit_2004(cmi: dict[str, Any], mastery: float | None, threshold: float | None, terminated: bool,
                 errors: _Errors) -> Commit:
    completion = _choice(cmi.get("completion_status"), "cmi.completion_status", COMPLETION_2004, errors)
    success = _choice(cmi.get("success_status"), "cmi.success_status", SUCCESS_2004, errors)
    score = _scores(_obj(cmi, "score", "cmi.score", errors), "cmi.score", _SCORE_2004, errors)
    scaled = score.get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        errors.add("cmi.score.scaled", "must be between -1 and 1")
    progress = _number(cmi.get("progress_measure"), "cmi.progress_measure", errors)
    if threshold is not None and progress is not None:
        completion = "completed" if progress >= threshold else "incomplete"
    if mastery is not None and scaled is not None:
        success = "passed" if scaled >= mastery else "failed"
    stored = _writable_2004(cmi, errors)
    return Commit(
        completion=completion,
        success=success,
        score=score if ("raw" in score or "scaled" in score) else None,
        session_seconds=_duration(SCORM2004, cmi.get("session_time"), "cmi.session_time", errors),
        location=_text(cmi.get("location"), "cmi.location", errors),
        suspend_data=_text(cmi.get("suspend_data"), "cmi.suspend_data", errors),
        exit=_choice(cmi.get("exit"), "cmi.exit", EXIT_2004, errors, empty_ok=True),
        interactions=stored.get("interactions", []),
        cmi=stored,
        terminated=terminated,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Learner-writable data (what is stored, and what resume loads back)


def _writable_12(cmi: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    core = _obj(cmi, "core", "cmi.core", errors)
    out: dict[str, Any] = {}
    stored_core = _pick(core, "cmi.core", ("lesson_location",), errors)
    status = _choice(core.get("lesson_status"), "cmi.core.lesson_status", LESSON_STATUS_12, errors)
    if status:
        stored_core["lesson_status"] = status
    exit_ = _exit_12(core.get("exit"), errors)
    if exit_:
        stored_core["exit"] = exit_
    _put(stored_core, "score", _score_strings(core, "cmi.core", _SCORE_12, errors))
    _put(out, "core", stored_core)
    _put(out, "suspend_data", _text(cmi.get("suspend_data", core.get("suspend_data")), "cmi.suspend_data", errors))
    _put(out, "comments", _text(cmi.get("comments"), "cmi.comments", errors))
    _put(out, "objectives", _array(cmi, "objectives", "cmi.objectives", errors, _objective_12))
    _put(out, "student_preference", _pick(_obj(cmi, "student_preference", "cmi.student_preference", errors),
                                          "cmi.student_preference", _PREFERENCE_12, errors))
    _put(out, "interactions", _array(cmi, "interactions", "cmi.interactions", errors, _interaction_12))
    return out


def _objective_12(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    out = _pick(item, path, ("id",), errors)
    status = _choice(item.get("status"), path + ".status", LESSON_STATUS_12, errors)
    _put(out, "status", status)
    _put(out, "score", _score_strings(item, path, _SCORE_12, errors))
    return out


def _interaction_12(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    out = _pick(item, path, _INTERACTION_12, errors)
    _put(out, "objectives", _array(item, "objectives", path + ".objectives", errors, _ids))
    _put(out, "correct_responses", _array(item, "correct_responses", path + ".correct_responses", errors, _patterns))
    return out


def _writable_2004(cmi: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, vocabulary in (("completion_status", COMPLETION_2004), ("success_status", SUCCESS_2004)):
        _put(out, key, _choice(cmi.get(key), "cmi." + key, vocabulary, errors))
    _put(out, "exit", _choice(cmi.get("exit"), "cmi.exit", EXIT_2004, errors, empty_ok=True))
    out.update(_pick(cmi, "cmi", ("location", "suspend_data"), errors))
    _put(out, "progress_measure", _decimal_string(cmi.get("progress_measure"), "cmi.progress_measure", errors))
    _put(out, "score", _score_strings(cmi, "cmi", _SCORE_2004, errors))
    _put(out, "learner_preference", _pick(_obj(cmi, "learner_preference", "cmi.learner_preference", errors),
                                          "cmi.learner_preference", _PREFERENCE_2004, errors))
    _put(out, "comments_from_learner",
         _array(cmi, "comments_from_learner", "cmi.comments_from_learner", errors, _comment_2004))
    _put(out, "objectives", _array(cmi, "objectives", "cmi.objectives", errors, _objective_2004))
    _put(out, "interactions", _array(cmi, "interactions", "cmi.interactions", errors, _interaction_2004))
    return out


def _comment_2004(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    return _pick(item, path, _COMMENT_2004, errors)


def _objective_2004(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    out = _pick(item, path, ("id", "description"), errors)
    for key, vocabulary in (("success_status", SUCCESS_2004), ("completion_status", COMPLETION_2004)):
        _put(out, key, _choice(item.get(key), f"{path}.{key}", vocabulary, errors))
    _put(out, "progress_measure", _decimal_string(item.get("progress_measure"), path + ".progress_measure", errors))
    _put(out, "score", _score_strings(item, path, _SCORE_2004, errors))
    return {k: out[k] for k in (*_OBJECTIVE_2004, "score") if k in out}


def _interaction_2004(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    out = _pick(item, path, _INTERACTION_2004, errors)
    _put(out, "objectives", _array(item, "objectives", path + ".objectives", errors, _ids))
    _put(out, "correct_responses", _array(item, "correct_responses", path + ".correct_responses", errors, _patterns))
    return out


def _ids(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    return _pick(item, path, ("id",), errors)


def _patterns(item: dict[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    return _pick(item, path, ("pattern",), errors)


# ---------------------------------------------------------------------------------------------------------------------
# Resume


def resume_cmi(standard: str, stored: dict[str, Any] | None, *, learner_id: str, learner_name: str,
               total_seconds: float, mastery: float | None, completion_threshold: float | None,
               launch_data: str | None, credit: bool = True) -> dict[str, Any]:
    """The object the player passes to scorm-again's `loadFromJSON` (before LMSInitialize / Initialize).

    LMS-owned values (learner, credit, entry, total time, mastery / scaled passing score, completion threshold,
    launch data), then the learner-writable values of `stored` (a Commit.cmi, or a raw commit's cmi: read-only
    elements are dropped): location, suspend data, statuses, score, objectives, preferences, comments and
    interactions (arrays as lists). Every value is a string (loadFromJSON skips falsy values, so a number 0 would be
    lost); exit and session time are never loaded. Entry is "resume" after exit=suspend, "ab-initio" when nothing is
    stored, else "". Values scorm-again would refuse are left out where known (a mastery score outside 0-100, a
    scaled passing score outside -1..1, a threshold outside 0..1, an invalid stored status or number); the player
    loads value by value if loadFromJSON still throws, so one refused value never loses the rest.
    """
    _check_standard(standard)
    errors = _Errors()  # resume never fails: invalid stored values are dropped
    stored = stored if isinstance(stored, dict) else {}
    writable = _writable_12(stored, errors) if standard == SCORM12 else _writable_2004(stored, errors)
    if standard == SCORM12:
        exit_ = writable.get("core", {}).pop("exit", None)
    else:
        exit_ = writable.pop("exit", None)
    entry = "resume" if exit_ == "suspend" else ("" if stored else "ab-initio")
    total = format_duration(standard, max(0.0, total_seconds) if math.isfinite(total_seconds) else 0.0)
    if standard == SCORM12:
        return _resume_12(writable, learner_id, learner_name, total, entry, mastery, launch_data, credit)
    return _resume_2004(writable, learner_id, learner_name, total, entry, mastery, completion_threshold,
                        launch_data, credit)


def _resume_12(writable: dict[str, Any], learner_id: str, learner_name: str, total: str, entry: str,
               mastery: float | None, launch_data: str | None, credit: bool) -> dict[str, Any]:
    core: dict[str, Any] = {"student_id": learner_id, "student_name": learner_name,
                            "credit": "credit" if credit else "no-credit", "entry": entry, "total_time": total}
    core.update(writable.pop("core", {}))
    out: dict[str, Any] = {"core": core}
    mastery_score = _bounded(mastery, 0, 100)
    if mastery_score:
        out["student_data"] = {"mastery_score": mastery_score}
    if launch_data:
        out["launch_data"] = launch_data
    out.update(writable)
    return out


def _resume_2004(writable: dict[str, Any], learner_id: str, learner_name: str, total: str, entry: str,
                 mastery: float | None, threshold: float | None, launch_data: str | None,
                 credit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"learner_id": learner_id, "learner_name": learner_name,
                           "credit": "credit" if credit else "no-credit", "entry": entry, "total_time": total}
    _put(out, "scaled_passing_score", _bounded(mastery, -1, 1))
    _put(out, "completion_threshold", _bounded(threshold, 0, 1))
    if launch_data:
        out["launch_data"] = launch_data
    out.update(writable)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Value helpers


def _check_standard(standard: str) -> None:
    if standard not in STANDARDS:
        raise ValueError(f"standard must be one of {STANDARDS}, not {standard!r}")


def _obj(parent: dict[str, Any], key: str, path: str, errors: _Errors) -> dict[str, Any]:
    value = parent.get(key)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        errors.add(path, "must be an object")
        return {}
    return value


def _text(value: Any, path: str, errors: _Errors) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _decimal(float(value)) if isinstance(value, float) else str(value)
    errors.add(path, "must be a string")
    return None


def _choice(value: Any, path: str, vocabulary: tuple[str, ...], errors: _Errors, *,
            empty_ok: bool = False) -> str | None:
    if value is None or (value == "" and not empty_ok):
        return None
    if not isinstance(value, str) or value not in vocabulary:
        errors.add(path, "must be one of " + ", ".join(repr(v) for v in vocabulary))
        return None
    return value


def _number(value: Any, path: str, errors: _Errors) -> float | None:
    if value is None or value == "":
        return None
    number: float | None = None
    try:
        if isinstance(value, str) and _DECIMAL.match(value.strip()):
            number = float(value.strip())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
    except OverflowError:
        number = None
    if number is None or not math.isfinite(number):
        errors.add(path, "must be a decimal number")
        return None
    return number


def _decimal_string(value: Any, path: str, errors: _Errors) -> str | None:
    """A valid decimal kept as the SCO sent it (a string), for storing and loading back."""
    number = _number(value, path, errors)
    if number is None:
        return None
    return value.strip() if isinstance(value, str) else _decimal(number)


def _decimal(value: float) -> str:
    """A plain decimal string (no exponent) that scorm-again's CMIDecimal accepts."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _bounded(value: float | None, low: float, high: float) -> str | None:
    if value is None or isinstance(value, bool) or not math.isfinite(value) or not low <= value <= high:
        return None
    return _decimal(float(value))


def _duration(standard: str, value: Any, path: str, errors: _Errors) -> float | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a timespan string")
        return None
    try:
        return parse_duration(standard, value)
    except ValueError as e:
        errors.add(path, str(e))
        return None


def _scores(score: dict[str, Any], path: str, keys: tuple[str, ...], errors: _Errors) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in keys:
        number = _number(score.get(key), f"{path}.{key}", errors)
        if number is not None:
            out[key] = number
    return out


def _score_strings(parent: dict[str, Any], path: str, keys: tuple[str, ...], errors: _Errors) -> dict[str, Any]:
    score = _obj(parent, "score", path + ".score", errors)
    out: dict[str, Any] = {}
    for key in keys:
        _put(out, key, _decimal_string(score.get(key), f"{path}.score.{key}", errors))
    return out


def _pick(source: dict[str, Any], path: str, keys: tuple[str, ...], errors: _Errors) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        _put(out, key, _text(source.get(key), f"{path}.{key}", errors))
    return out


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", {}, []):
        target[key] = value


_Item = Callable[[dict[str, Any], str, _Errors], dict[str, Any]]


def _array(parent: dict[str, Any], key: str, path: str, errors: _Errors, item: _Item) -> list[dict[str, Any]]:
    """A CMI array: scorm-again sends {"0": {...}, "1": {...}}; a list is accepted too. Empty entries are dropped."""
    value = parent.get(key)
    if value is None or value == "" or value == {} or value == []:
        return []
    if isinstance(value, dict):
        if not all(isinstance(k, str) and k.isdigit() and len(k) < 10 for k in value):
            errors.add(path, "must be an array or an object keyed 0, 1, ...")
            return []
        entries = [(k, value[k]) for k in sorted(value, key=int)]
    elif isinstance(value, list):
        entries = [(str(i), v) for i, v in enumerate(value)]
    else:
        errors.add(path, "must be an array")
        return []
    out: list[dict[str, Any]] = []
    for index, entry in entries:
        if entry is None:
            continue
        if not isinstance(entry, dict):
            errors.add(f"{path}.{index}", "must be an object")
            continue
        cleaned = item(entry, f"{path}.{index}", errors)
        if cleaned:  # scorm-again needs contiguous indexes: empty entries are dropped, the rest close up
            out.append(cleaned)
    return out


__all__ = [
    "Commit",
    "MAX_CMI_BYTES",
    "SCORM12",
    "SCORM2004",
    "STANDARDS",
    "format_duration",
    "parse_commit",
    "parse_duration",
    "resume_cmi",
]
