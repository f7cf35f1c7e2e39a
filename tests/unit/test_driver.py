"""The one driver: parts repeat by repeat, awaitables awaited, nothing leaks between parts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from lab.experiments.driver import Row, chosen_settings, drive


@dataclass(frozen=True)
class Settings:
    repeats: int = 2

    @classmethod
    def quick(cls) -> Settings:
        return cls(repeats=1)


def test_parts_run_in_order_repeat_by_repeat_and_make_one_frame() -> None:
    said: list[str] = []

    def sync(s: Settings, repeat: int) -> list[Row]:
        return [{"part": "sync", "repeat": repeat}]

    async def later(s: Settings, repeat: int) -> list[Row]:
        await asyncio.sleep(0)
        return [{"part": "later", "repeat": repeat}, {"part": "later", "repeat": repeat}]

    frame = drive("demo", Settings(), ["sync", "later"], {"sync": sync, "later": later},
                  said.append)  # fmt: skip
    assert list(zip(frame.part, frame.repeat, strict=True)) == [
        ("sync", 0), ("later", 0), ("later", 0), ("sync", 1), ("later", 1), ("later", 1),
    ]  # fmt: skip
    assert said == ["demo: sync, repeat 1/2", "demo: later, repeat 1/2",
                    "demo: sync, repeat 2/2", "demo: later, repeat 2/2"]  # fmt: skip


def test_what_a_part_leaves_running_is_cancelled_before_the_next_part() -> None:
    left: list[asyncio.Task[None]] = []
    seen: list[int] = []

    async def leaves_a_task(s: Settings, repeat: int) -> list[Row]:
        left.append(asyncio.create_task(asyncio.sleep(3600)))
        return []

    async def counts_tasks(s: Settings, repeat: int) -> list[Row]:
        seen.append(len(asyncio.all_tasks()))  # this part's own task only
        return []

    drive("demo", Settings(repeats=1), ["a", "b"], {"a": leaves_a_task, "b": counts_tasks})
    assert left[0].cancelled()
    assert seen == [1]


def test_an_unknown_part_is_refused_before_anything_runs() -> None:
    ran: list[str] = []
    with pytest.raises(ValueError, match="unknown part"):
        drive("demo", Settings(), ["a", "typo"], {"a": lambda s, r: ran.append("a") or []})
    assert ran == []


def test_settings_given_win_over_quick_and_full_defaults() -> None:
    assert chosen_settings(Settings, None, quick=True) == Settings(repeats=1)
    assert chosen_settings(Settings, None, quick=False) == Settings(repeats=2)
    assert chosen_settings(Settings, Settings(repeats=5), quick=True) == Settings(repeats=5)
