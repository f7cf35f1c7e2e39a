"""The resilience experiment, small: behaviour (counts), not speed."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import pytest

from lab.experiments.resilience import tables
from tests.experiment_frames import SessionFrames


@pytest.fixture(scope="module")
def frame(frames: SessionFrames) -> pd.DataFrame:
    return frames("resilience")


def test_breakers_keep_calls_off_the_failing_downstream(frame: pd.DataFrame) -> None:
    table = tables.breaker_summary(frame).set_index(["scenario", "variant"])
    unguarded = table.loc[("outage", "no breaker")]
    assert unguarded.reached_during_fault == 90  # 60 calls/s for 1.5 s: every one
    assert pd.isna(unguarded.time_to_open_s)
    for variant in ("consecutive(5)", "failure rate 50% of 20 calls"):
        guarded = table.loc[("outage", variant)]
        assert guarded.reached_during_fault < unguarded.reached_during_fault / 2
        assert guarded.time_to_open_s >= 0 and guarded.time_to_recover_s >= 0


def test_the_slow_call_policy_trips_on_a_slowdown(frame: pd.DataFrame) -> None:
    table = tables.breaker_summary(frame).set_index(["scenario", "variant"])
    slow = table.loc[("slowdown", "slow calls 50% of 20 (>100 ms)")]
    assert slow.reached_during_fault < table.loc[("slowdown", "no breaker")].reached_during_fault
    assert pd.isna(table.loc[("slowdown", "consecutive(5)")].time_to_open_s)  # no errors


def test_every_scheduled_call_has_an_outcome(frame: pd.DataFrame) -> None:
    calls = frame[(frame.part == "outage") & (frame.outcome != "transition")]
    assert (calls.groupby("variant").size() == 240).all()  # 60/s over 4 s, none lost
    assert set(calls.outcome) <= {"success", "failure", "rejected"}


def test_bounded_memory_stays_flat_while_gather_grows(frame: pd.DataFrame) -> None:
    memory = frame[frame.part == "memory"].set_index(["variant", "items"]).peak_mib
    bounded = memory.loc["bounded_map(limit=100)"]
    gathered = memory.loc["gather everything"]
    assert bounded.loc[40_000] < 2 * bounded.loc[5_000]  # 8x the items, not 8x the memory
    assert gathered.loc[40_000] > 4 * gathered.loc[5_000]
    assert bounded.loc[40_000] < gathered.loc[40_000] / 4


def test_bounded_processing_completes_every_item(frame: pd.DataFrame) -> None:
    bounded = frame[frame.part == "bounded"]
    assert (bounded["items"] == 100).all()
    assert set(bounded["limit"]) == {1, 10}


def test_lab_breakers_record_their_state_transitions(frame: pd.DataFrame) -> None:
    timeline = tables.state_timeline(frame)
    consecutive = timeline[(timeline.part == "outage") & (timeline.variant == "consecutive(5)")]
    states = list(consecutive.state)
    assert states[0] == "open" and states[-1] == "closed"
    assert all(a != b for a, b in pairwise(states))
    table = tables.breaker_summary(frame).set_index(["scenario", "variant"])
    assert table.loc[("outage", "consecutive(5)")].transitions == len(states)
