"""The load generator against real simulated HTTP servers on 127.0.0.1.

Assertions are about counts and accounting: what was scheduled, sent, dropped, answered
and failed, and which requests a stall reached. None asserts how fast anything ran.
"""

from __future__ import annotations

from lab.harness.loadgen import LoadSettings, Schedule, run_load
from lab.harness.loadgen.result import LoadResult
from lab.harness.simulate import ServerModel, SimulatedServer


async def _run(model: ServerModel, **settings: object) -> tuple[LoadResult, SimulatedServer]:
    async with SimulatedServer(model) as server:
        result = await run_load(LoadSettings(server.url, **settings))  # type: ignore[arg-type]
    return result, server


async def test_every_scheduled_request_reaches_the_server_once() -> None:
    result, server = await _run(ServerModel(), schedule=Schedule.constant(200, 1.0))
    assert result.scheduled == 200 and result.dropped == 0
    assert result.requests == server.counters.received == server.counters.answered == 200
    assert result.status_counts == {"200": 200} and result.errors == 0
    assert sum(second.requests for second in result.timeline) == 200
    assert result.latency.count == 200


async def test_a_stall_shows_in_the_latency_of_requests_scheduled_during_it() -> None:
    # 100 rps for 2 s; the server answers nothing in [1.0 s, 1.5 s).
    model = ServerModel(stall_every_s=1.0, stall_for_s=0.5)
    result, server = await _run(model, schedule=Schedule.constant(100, 2.0))
    assert result.requests == 200 and server.counters.stalled > 0
    # The 50 requests due in the window wait out its remainder: the first half of them
    # (due before 1.25 s) take about 250 ms or more from their intended time (20: margin
    # for the window's edges on a loaded machine).
    assert result.latency.count_at_or_above_ms(250) >= 20


async def test_requests_queued_in_the_generator_count_from_their_intended_time() -> None:
    """Coordinated omission: with 2 connections, the requests due during the stall cannot
    be sent on time; they wait in the generator. Timed from the moment they are sent, they
    would look fast (the stall is over by then: 2 of 200 took 250 ms or more when this
    was planted); timed from when they were due, about the first half of the 50 due in
    the window take 250 ms or more."""
    model = ServerModel(stall_every_s=1.0, stall_for_s=0.5)
    result, server = await _run(
        model, schedule=Schedule.constant(100, 2.0), connections=2, max_backlog=200
    )
    assert result.requests == 200 and result.dropped == 0
    assert server.counters.max_in_flight <= 2  # the rest queued in the generator
    assert result.latency.count_at_or_above_ms(250) >= 20


async def test_the_closed_loop_hides_the_same_stall() -> None:
    model = ServerModel(stall_every_s=1.0, stall_for_s=0.5)
    result, _ = await _run(model, mode="closed", users=5, duration_s=1.8)
    # The run ends before the second window (at 2.0 s): each user can be caught by the
    # one stall at most once, so at most 5 requests see it, against 25+ in the open loop.
    assert result.latency.count_at_or_above_ms(250) <= 5
    assert result.requests > 5


async def test_requests_that_find_the_backlog_full_are_dropped_and_counted() -> None:
    model = ServerModel(service_s=0.05, capacity=1)
    result, server = await _run(
        model, schedule=Schedule.constant(100, 0.5), connections=1, max_backlog=2
    )
    assert result.scheduled == 50
    assert result.dropped > 0
    assert result.requests + result.dropped == result.scheduled
    assert result.requests == server.counters.received


async def test_errors_are_counted_by_kind_and_match_what_the_server_did() -> None:
    model = ServerModel(error_rate=0.3, reset_rate=0.1, seed=7)
    result, server = await _run(model, schedule=Schedule.constant(200, 1.0), connections=8)
    c = server.counters
    assert result.requests == c.received == 200
    assert result.error_counts["status 500"] == c.errors_injected == result.status_counts["500"]
    assert result.error_counts["connection reset"] == c.resets_injected > 0
    assert result.errors == c.errors_injected + c.resets_injected
    assert result.latency.count == c.answered  # transport errors have no latency


async def test_timeouts_are_errors_of_their_own_kind() -> None:
    model = ServerModel(slow_rate=1.0, slow_extra_s=5.0)
    result, _ = await _run(model, schedule=Schedule.constant(20, 0.5), timeout_s=0.1)
    assert result.requests == 10
    assert result.error_counts == {"timeout": 10}
    assert result.latency.count == 0


async def test_the_timeout_runs_from_when_a_request_was_due() -> None:
    """One connection to a server taking 50 ms a request, 40 due each second: requests
    wait in the generator, and each one's 0.3 s deadline counts that wait. (Timed from
    the send, none of them would time out: the server answers each in 50 ms.)"""
    model = ServerModel(service_s=0.05)
    result, _ = await _run(model, schedule=Schedule.constant(40, 1.0), connections=1,
                           timeout_s=0.3)  # fmt: skip
    late = result.error_counts["timeout"] + result.error_counts["timeout before send"]
    assert late > 0 and result.errors == late
    assert result.requests + result.dropped == 40  # every one accounted for
    assert result.latency.count == result.requests - late


async def test_a_refused_connection_is_an_error_not_a_crash() -> None:
    result = await run_load(
        LoadSettings("http://127.0.0.1:9/", schedule=Schedule.constant(20, 0.5))
    )
    assert result.requests == 10
    assert result.error_counts == {"connection refused": 10}


async def test_capacity_queues_requests_beyond_it() -> None:
    model = ServerModel(service_s=0.02, capacity=2)
    result, server = await _run(model, mode="closed", users=6, duration_s=0.3)
    c = server.counters
    assert c.max_serving == 2
    assert c.max_waiting_for_capacity >= 1
    assert c.max_in_flight <= 6
    assert result.requests == c.received


async def test_a_request_mix_reaches_the_server_path_by_path() -> None:
    from lab.harness.loadgen import RequestMix

    mix = RequestMix((("/users/{id}", 3.0), ("/health", 1.0)), ids=5, size=300)
    result, server = await _run(ServerModel(), schedule=Schedule.constant(300, 1.0), mix=mix)
    expected: dict[str, int] = {}
    for path in mix.path_list():
        expected[path] = expected.get(path, 0) + 1
    assert result.requests == 300 and result.errors == 0
    assert server.counters.by_path == expected
