"""The load-testing notebook's what-if in virtual time: the server model, and the lesson
(an open loop's p99 holds the stall; a closed loop's hides it and sends less)."""

from __future__ import annotations

import pytest

from lab.errors import ConfigError
from lab.experiments.loadgen.whatif import Server, what_if


def test_the_server_serves_in_order_and_waits_out_the_stall() -> None:
    server = Server(workers=1, service_s=0.01, stall_at=1.0, stall_for=0.5)
    assert server.serve(0.0) == pytest.approx(0.01)
    assert server.serve(0.005) == pytest.approx(0.02)  # queued behind the first
    assert server.serve(0.995) == pytest.approx(1.505 + 0.0)  # cut by the stall: +0.5 s
    assert server.serve(1.2) == pytest.approx(1.515)  # arrived in it: after it, in order


def test_the_open_loop_reports_the_stall_and_the_closed_loop_hides_it() -> None:
    table, _ = what_if(stall_s=1.0, rate=200, users=2, service_ms=10, workers=4)
    open_loop, closed_loop = table.iloc[0], table.iloc[1]
    assert open_loop.requests == 2000 and open_loop.share_in_stall_percent == 10
    assert closed_loop.requests < open_loop.requests  # it sent less while it waited
    assert closed_loop.share_in_stall_percent == 0  # no user sent during the stall
    assert open_loop.p99_ms > 500 and closed_loop.p99_ms == pytest.approx(10)
    assert open_loop.max_ms == pytest.approx(closed_loop.max_ms)  # both met the stall once


def test_without_a_stall_both_report_the_service_time() -> None:
    table, _ = what_if(stall_s=0.0)
    assert list(table.p99_ms) == pytest.approx([10.0, 10.0])


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="the stall must start within the run"):
        what_if(stall_at_s=20.0)
    with pytest.raises(ConfigError, match="workers 1-1000"):
        what_if(workers=0)
