"""Tenant templates: data files holding branding, role settings, starter catalog, region, reminders."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_DIR = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def all_templates() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        out[doc["id"]] = doc
    return out


def names() -> list[str]:
    return sorted(all_templates())


def get(name: str) -> dict[str, Any] | None:
    return all_templates().get(name)
