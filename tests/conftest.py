"""Shared fixtures: the environment is pinned before any Onramp or AWS module is imported."""

from __future__ import annotations

from tests.env import pin

pin()
