"""The reference service's switches and cursors, without any server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.errors import ConfigError
from lab.service import PATTERNS, ServiceSettings
from lab.service.handlers import BadRequest, decode_cursor, encode_cursor


def test_every_pattern_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PATTERNS:
        monkeypatch.delenv(f"LAB_SERVE_NO_{name.upper()}", raising=False)
    assert ServiceSettings.from_env().enabled() == dict.fromkeys(PATTERNS, True)


def test_environment_switches_patterns_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_SERVE_NO_CACHE", "1")
    monkeypatch.setenv("LAB_SERVE_NO_LIMITER", "true")
    monkeypatch.setenv("LAB_SERVE_NO_POOL", "0")
    enabled = ServiceSettings.from_env().enabled()
    assert enabled == {"cache": False, "pool": True, "breaker": True, "limiter": False}


def test_overrides_win_and_bad_values_are_refused() -> None:
    assert ServiceSettings.from_env(pool_size=3).pool_size == 3
    with pytest.raises(ConfigError, match="pool size"):
        ServiceSettings.from_env(pool_size=0)
    with pytest.raises(ConfigError, match="per page"):
        ServiceSettings.from_env(max_per_page=0)


def test_cursor_round_trip_and_garbage() -> None:
    when = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    cursor = encode_cursor({"created_at": when.isoformat(), "id": 42})
    assert decode_cursor(cursor) == (when, 42)
    for garbage in ("", "%%%", "bm90IGEgY3Vyc29y", encode_cursor({"created_at": "x", "id": 1})):
        with pytest.raises(BadRequest, match="not a cursor"):
            decode_cursor(garbage)
