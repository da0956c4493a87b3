"""GET statement formats: `exact` (as stored), `ids` (identifiers only), `canonical` (one language)."""

from __future__ import annotations

from typing import Any

_IFI = ("mbox", "mbox_sha1sum", "openid", "account")
_LANGUAGE_MAPS = ("display", "name", "description")


def _ids(value: Any, key: str = "") -> Any:
    if isinstance(value, list):
        return [_ids(v, key) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("objectType")
    if kind in ("Agent", "Group") or (key in ("actor", "instructor", "authority", "member", "team")):
        kept = {k: v for k, v in value.items() if k in (*_IFI, "objectType")}
        if "member" in value and not any(k in value for k in _IFI):
            kept["member"] = _ids(value["member"], "member")
        return kept
    if key == "verb":
        return {"id": value["id"]}
    if "id" in value and kind in (None, "Activity") and key in ("object", "parent", "grouping", "category",
                                                              "other"):
        return {"id": value["id"]}
    return {k: (v if k == "extensions" else _ids(v, k)) for k, v in value.items()}


def _pick(lang_map: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    """The entry of the first wanted language: its exact tag, else the same primary language (`en` for
    `en-GB`, `en-US` for `en`), else the map's first entry."""
    for wanted in languages:
        exact = [tag for tag in lang_map if tag.lower() == wanted]
        near = [tag for tag in lang_map if tag.lower().split("-")[0] == wanted.split("-")[0]]
        for tag in exact or near:
            return {tag: lang_map[tag]}
    first = next(iter(lang_map.items()), None)
    return dict([first]) if first else {}


def _canonical(value: Any, languages: list[str], key: str = "") -> Any:
    if isinstance(value, list):
        return [_canonical(v, languages) for v in value]
    if not isinstance(value, dict):
        return value
    if key in _LANGUAGE_MAPS:
        return _pick(value, languages)
    if key == "extensions":
        return value
    return {k: _canonical(v, languages, k) for k, v in value.items()}


def _weight(q: str) -> float:
    try:
        return float(q) if q else 1.0
    except ValueError:
        return 1.0


def languages(accept_language: str | None) -> list[str]:
    tags = []
    for part in (accept_language or "").split(","):
        tag, _, q = part.strip().partition(";q=")
        if tag and tag != "*":
            tags.append((_weight(q), tag.lower()))
    return [t for _, t in sorted(tags, key=lambda p: -p[0])]


def render(doc: dict[str, Any], fmt: str, accept_language: str | None = None) -> dict[str, Any]:
    if fmt == "ids":
        out: dict[str, Any] = _ids(doc)
        return out
    if fmt == "canonical":
        out = _canonical(doc, languages(accept_language))
        return out
    return doc
