"""The load-control "what if": the experiment's convergence part on a virtual clock, so
the same arguments give the same table, and each limiter behaves as the experiment says."""

from __future__ import annotations

import math

import pytest

from lab.errors import ConfigError
from lab.experiments.load_control.whatif import what_if


def test_each_limiter_gets_a_row_and_only_the_unlimited_server_times_out() -> None:
    table, figure = what_if(capacity=10, overload=2.0, before_s=3.0, after_s=8.0)
    assert list(table.index) == ["no limiter", "aimd", "vegas", "gradient2", "latency-target"]
    assert math.isnan(table.loc["no limiter", "limit_steady"])
    assert table.loc["no limiter", "timed_out_share"] > 0.5
    assert table.loc["gradient2", "timed_out_share"] == 0
    assert table.loc["gradient2", "rejected_share"] > 0.3  # 2x overload: about half refused
    assert figure.axes  # the limit over time


async def test_it_answers_inside_a_running_event_loop_as_a_notebook_cell_does() -> None:
    table, _ = what_if(capacity=6, limiters=("gradient2",), before_s=1.0, after_s=2.0)
    assert list(table.index) == ["gradient2"]


def test_virtual_time_gives_the_same_answer_twice() -> None:
    first, _ = what_if(capacity=8, overload=3.0, scenario="drop", limiters=("vegas",),
                       before_s=2.0, after_s=4.0)  # fmt: skip
    again, _ = what_if(capacity=8, overload=3.0, scenario="drop", limiters=("vegas",),
                       before_s=2.0, after_s=4.0)  # fmt: skip
    assert first.equals(again)


@pytest.mark.parametrize(("arguments", "words"), [
    ({"scenario": "spike"}, "scenario must be one of step, ramp, drop"),
    ({"limiters": ("bbr",)}, "not bbr"),
    ({"limiters": ()}, "not none"),
    ({"capacity": 1}, "capacity must be at least 2"),
])  # fmt: skip
def test_bad_arguments_say_what_is_accepted(arguments: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        what_if(**arguments)  # type: ignore[arg-type]
