"""The service profile's runs with a ``lab serve`` switch: compared with the same repeat's
run on the first loop without one, and kept out of the sample shares."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.experiments.service import measure, tables

#: (repeat, event loop, switch, CPU per request in us)
RUNS = [
    (0, "uvloop", "none", 400.0),
    (0, "asyncio", "none", 440.0),
    (0, "uvloop", "--no-cache-coalesce", 380.0),
    (1, "uvloop", "--no-cache-coalesce", 550.0),
    (1, "asyncio", "none", 450.0),
    (1, "uvloop", "none", 500.0),
]


def _frame(with_switch: bool = True) -> pd.DataFrame:
    rows = []
    for repeat, loop, switch, cpu in RUNS:
        if not with_switch and switch != "none":
            continue
        labels = {"part": "profile", "variant": "optimized", "event_loop": loop,
                  "repeat": repeat, **({"switch": switch} if with_switch else {})}  # fmt: skip
        rows.append({**labels, "kind": "summary", "achieved_rps": 1000.0,
                     "cpu_us_per_request": cpu, "samples": 100})  # fmt: skip
        for stage, share in (("event loop", 60.0), ("redis-py", 40.0 if switch == "none" else 0)):
            rows.append({**labels, "kind": "stage", "stage": stage, "samples": share,
                         "share_percent": share})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_switched_run_is_compared_with_the_same_repeats_first_loop() -> None:
    summary = tables.profile_summary(_frame()).set_index(["event_loop", "switch"])
    assert list(summary.index) == [("uvloop", "none"), ("asyncio", "none"),
                                   ("uvloop", "--no-cache-coalesce")]  # fmt: skip
    switched = summary.loc[("uvloop", "--no-cache-coalesce")]
    assert switched.cpu_vs_uvloop_min == pytest.approx(380 / 400)
    assert switched.cpu_vs_uvloop_max == pytest.approx(550 / 500)
    assert summary.loc[("uvloop", "none")].cpu_vs_uvloop == 1.0
    assert summary.loc[("asyncio", "none")].cpu_vs_uvloop_max == pytest.approx(440 / 400)


def test_the_shares_are_those_of_the_runs_without_a_switch() -> None:
    stages = tables.profile_shares(_frame(), "stage")
    assert set(stages.event_loop) == {"uvloop", "asyncio"}
    assert (stages[stages.stage == "redis-py"].share_percent == 40.0).all()


def test_a_frame_from_before_the_switches_reads_as_runs_without_one() -> None:
    summary = tables.profile_summary(_frame(with_switch=False))
    assert list(summary["switch"]) == ["none", "none"]
    assert list(summary.event_loop) == ["uvloop", "asyncio"]


def test_an_unknown_switch_stops_the_run_before_any_load() -> None:
    settings = replace(measure.quick_settings(), profile_switches=("--no-such-switch",))
    with pytest.raises(ConfigError, match="--no-such-switch"):
        measure.run(settings=settings)


def test_an_unknown_variant_stops_the_run_before_any_load() -> None:
    words = "service.variants takes optimized, naive, profile cache in Redis only; not fastest"
    with pytest.raises(ConfigError, match=re.escape(words)):
        measure.run(settings=measure.quick_settings(variants=("optimized", "fastest")))
