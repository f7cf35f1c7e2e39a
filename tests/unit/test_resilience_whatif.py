"""The breaker "what if": the lab's breaker replayed over a trace on a virtual clock."""

from __future__ import annotations

import math

import pytest

from lab.errors import ConfigError
from lab.experiments.resilience.whatif import Trace, replay


def test_an_outage_is_cut_short_by_every_failure_policy_and_recovered_from() -> None:
    table, figure = replay(trace=Trace("outage", fault_from_s=1.0, fault_for_s=3.0,
                                       total_s=8.0), rate_per_s=40)  # fmt: skip
    assert table.loc["no breaker", "reached_during_fault"] == 120  # 40 calls/s for 3 s
    for policy in ("consecutive", "failure rate", "failure rate (time)"):
        row = table.loc[policy]
        assert row.reached_during_fault < 120 / 2 and 0 <= row.time_to_open_s < 1.5, policy
        assert row.time_to_recover_s >= 0, policy  # closed again once the fault ended
    assert table.loc["slow calls", "reached_during_fault"] == 120  # failures are not slow
    assert table.loc["consecutive", "reached_during_fault"] >= 5  # the threshold's calls
    assert len(figure.axes[0].get_yticklabels()) == 5  # the experiment's figure: a row each


def test_a_slowdown_opens_only_the_slow_call_breaker() -> None:
    table, _ = replay(trace=Trace("slowdown", fault_for_s=3.0, total_s=9.0), rate_per_s=30)
    assert table.loc["slow calls", "reached_during_fault"] < 90
    assert math.isnan(table.loc["consecutive", "time_to_open_s"])


def test_a_longer_recovery_refuses_more_calls_after_the_fault() -> None:
    refused = [replay(("consecutive",), recovery_s=wait)[0].loc["consecutive",
                                                               "rejected_after_fault"]
               for wait in (0.5, 3.0)]  # fmt: skip
    assert refused[0] < refused[1]


def test_the_same_seed_gives_the_same_replay() -> None:
    trace = Trace("partial", fail_share=0.6)
    assert replay(trace=trace, seed=3)[0].equals(replay(trace=trace, seed=3)[0])
    assert replay(trace="partial")[0].equals(replay(trace=Trace("partial"))[0])


@pytest.mark.parametrize(("arguments", "words"), [
    ({"policies": ("hystrix",)}, "not hystrix"),
    ({"threshold": 0}, "threshold >= 1"),
    ({"trace": "flood"}, "one of outage, partial, slowdown"),
])  # fmt: skip
def test_bad_arguments_say_what_is_accepted(arguments: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        replay(**arguments)  # type: ignore[arg-type]


def test_a_trace_outside_its_run_is_refused() -> None:
    with pytest.raises(ConfigError, match="must start at 0 s or later and end by total_s"):
        Trace(fault_from_s=5.0, fault_for_s=10.0, total_s=12.0)
    with pytest.raises(ConfigError, match="one of outage, partial, slowdown"):
        Trace("flood")
