"""The circuit breaker's state machine, in virtual time."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from lab.errors import CircuitOpenError, ConfigError
from lab.patterns.breaker import (
    BreakerMetrics,
    CircuitBreaker,
    CircuitState,
    FailureRate,
    SlowCallRate,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Boom(Exception):
    pass


async def ok() -> str:
    return "ok"


async def fail() -> str:
    raise Boom


async def _fail_n(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            await breaker.call(fail)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _transitions(breaker: CircuitBreaker) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    breaker.add_listener(lambda old, new: seen.append((old.value, new.value)))
    return seen


async def test_consecutive_failures_open_and_a_success_resets_the_run(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=60, clock=clock)
    await _fail_n(breaker, 2)
    assert await breaker.call(ok) == "ok"
    await _fail_n(breaker, 2)
    assert breaker.state is CircuitState.CLOSED
    await _fail_n(breaker, 1)
    assert breaker.state is CircuitState.OPEN


async def test_open_rejects_without_calling_and_says_when_to_retry(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=60, clock=clock)
    await _fail_n(breaker, 1)
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1

    clock.advance(15)
    with pytest.raises(CircuitOpenError) as rejected:
        await breaker.call(counted)
    assert calls == 0
    assert rejected.value.retry_after == pytest.approx(45)
    assert breaker.stats.rejected == 1
    clock.advance(45)
    assert breaker.state is CircuitState.HALF_OPEN


async def test_half_open_admits_exactly_the_permitted_trials_among_1000_callers(
    clock: Clock,
) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, recovery_timeout=10, half_open_max_calls=3, clock=clock
    )
    await _fail_n(breaker, 1)
    clock.advance(10)
    gate = asyncio.Event()
    reached = 0

    async def trial() -> str:
        nonlocal reached
        reached += 1
        await gate.wait()
        return "ok"

    tasks = [asyncio.create_task(breaker.call(trial)) for _ in range(1000)]
    await asyncio.sleep(0)
    assert reached == 3
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(r == "ok" for r in results) == 3
    assert sum(isinstance(r, CircuitOpenError) for r in results) == 997
    assert breaker.state is CircuitState.CLOSED


async def test_a_failed_trial_reopens_with_a_growing_capped_wait(clock: Clock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, recovery_timeout=10, backoff_multiplier=2,
        max_recovery_timeout=25, clock=clock,
    )  # fmt: skip
    seen = _transitions(breaker)
    await _fail_n(breaker, 1)
    for expected_wait in (20, 25, 25):
        clock.advance(breaker.retry_after)
        await _fail_n(breaker, 1)  # the trial fails
        assert breaker.retry_after == expected_wait
    clock.advance(25)
    assert await breaker.call(ok) == "ok"
    assert breaker.state is CircuitState.CLOSED
    assert breaker.retry_after == 0
    assert seen == [("closed", "open"), *[("open", "half_open"), ("half_open", "open")] * 3,
                    ("open", "half_open"), ("half_open", "closed")]  # fmt: skip


async def test_failure_rate_waits_for_minimum_calls_then_trips_on_rate(clock: Clock) -> None:
    breaker = CircuitBreaker(policy=FailureRate(50, window_size=10, minimum_calls=6), clock=clock)
    await _fail_n(breaker, 2)
    for _ in range(4):
        await breaker.call(ok)
    assert breaker.state is CircuitState.CLOSED  # 2 of 6 failed
    await _fail_n(breaker, 1)
    assert breaker.state is CircuitState.CLOSED  # 3 of 7
    await _fail_n(breaker, 1)
    assert breaker.state is CircuitState.OPEN  # 4 of 8 = 50 %


async def test_below_minimum_calls_even_all_failures_do_not_trip(clock: Clock) -> None:
    breaker = CircuitBreaker(policy=FailureRate(50, window_size=10, minimum_calls=6), clock=clock)
    await _fail_n(breaker, 5)
    assert breaker.state is CircuitState.CLOSED


async def test_time_window_forgets_old_failures(clock: Clock) -> None:
    breaker = CircuitBreaker(policy=FailureRate(60, window_s=10, minimum_calls=4), clock=clock)
    await _fail_n(breaker, 2)
    await breaker.call(ok)
    clock.advance(11)  # the two failures leave the window
    await _fail_n(breaker, 1)
    for _ in range(3):
        await breaker.call(ok)
    await _fail_n(breaker, 3)
    # 4 of 7 in the window (57 %); had the old two counted, 6 of 10 would have tripped it.
    assert breaker.state is CircuitState.CLOSED
    await _fail_n(breaker, 1)
    assert breaker.state is CircuitState.OPEN  # 5 of 8


async def test_slow_calls_trip_the_slow_call_policy(clock: Clock) -> None:
    policy = SlowCallRate(50, window_size=4, minimum_calls=4)
    breaker = CircuitBreaker(policy=policy, slow_call_s=1.0, clock=clock)

    async def slow() -> str:
        clock.advance(2.0)
        return "late but fine"

    await breaker.call(ok)
    await breaker.call(ok)
    await breaker.call(slow)
    assert breaker.state is CircuitState.CLOSED
    await breaker.call(slow)
    assert breaker.state is CircuitState.OPEN
    assert breaker.stats.slow == 2 and breaker.stats.failures == 0


async def test_ignored_and_unrecorded_errors_do_not_count(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, ignore=(KeyError,), record=(Boom, KeyError),
                             clock=clock)  # fmt: skip

    async def raise_(error: BaseException) -> None:
        raise error

    for error in (KeyError("x"), ValueError("not recorded")):
        with pytest.raises(type(error)):
            await breaker.call(raise_, error)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats.ignored == 2
    await _fail_n(breaker, 1)
    assert breaker.state is CircuitState.OPEN


async def test_predicates_decide_what_counts(clock: Clock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=2, clock=clock,
        is_failure=lambda error: "transient" not in str(error),
        result_is_failure=lambda status: status >= 500 or status == 429,
    )  # fmt: skip

    async def status(code: int) -> int:
        return code

    async def transient() -> None:
        raise Boom("transient glitch")

    assert await breaker.call(status, 404) == 404
    with pytest.raises(Boom):
        await breaker.call(transient)
    assert breaker.stats.failures == 0
    await breaker.call(status, 503)
    await breaker.call(status, 429)
    assert breaker.state is CircuitState.OPEN


async def test_fallback_answers_instead_of_raising(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock,
                             fallback=lambda *args, **kwargs: "cached answer")  # fmt: skip
    with pytest.raises(Boom):
        await breaker.call(fail)
    assert await breaker.call(ok) == "cached answer"


async def test_decorator_and_context_manager(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)

    @breaker
    async def guarded(value: int) -> int:
        if value < 0:
            raise Boom
        return value * 2

    assert await guarded(4) == 8
    with pytest.raises(Boom):
        await guarded(-1)
    with pytest.raises(Boom):
        async with breaker:
            raise Boom
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        async with breaker:
            pytest.fail("an open breaker must not run the block")
    with pytest.raises(TypeError):
        breaker(lambda: None)  # type: ignore[arg-type]


async def test_cancellation_is_not_a_failure_and_frees_the_trial(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    await _fail_n(breaker, 1)
    clock.advance(5)
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(breaker.call(hang))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.state is CircuitState.HALF_OPEN
    assert await breaker.call(ok) == "ok"  # the slot was given back
    assert breaker.state is CircuitState.CLOSED


async def test_forced_open_disabled_and_reset(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    breaker.force_open()
    with pytest.raises(CircuitOpenError):
        await breaker.call(ok)
    breaker.disable()
    await _fail_n(breaker, 3)
    assert breaker.state is CircuitState.DISABLED
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED and await breaker.call(ok) == "ok"


async def test_metrics_count_outcomes_and_transitions(clock: Clock) -> None:
    registry = CollectorRegistry()
    breaker = CircuitBreaker(name="api", failure_threshold=1, clock=clock,
                             metrics=BreakerMetrics(registry))  # fmt: skip
    await breaker.call(ok)
    await _fail_n(breaker, 1)
    with pytest.raises(CircuitOpenError):
        await breaker.call(ok)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"name": "api", **labels})

    assert value("lab_circuit_breaker_calls_total", outcome="success") == 1
    assert value("lab_circuit_breaker_calls_total", outcome="failure") == 1
    assert value("lab_circuit_breaker_calls_total", outcome="rejected") == 1
    assert value("lab_circuit_breaker_transitions_total", **{"from": "closed", "to": "open"}) == 1
    assert value("lab_circuit_breaker_state", state="open") == 1
    assert value("lab_circuit_breaker_state", state="closed") == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_threshold": 0},
        {"recovery_timeout": -1},
        {"half_open_max_calls": 0},
        {"backoff_multiplier": 0.5},
    ],
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]


async def test_reading_the_state_changes_nothing_and_the_next_call_moves_it() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5.0, clock=clock)
    moves: list[tuple[CircuitState, CircuitState]] = []
    breaker.add_listener(lambda old, new: moves.append((old, new)))
    with pytest.raises(Boom):
        await breaker.call(fail)
    clock.advance(5.0)
    assert breaker.state is CircuitState.HALF_OPEN  # what a call would meet now
    assert breaker.state is CircuitState.HALF_OPEN
    assert moves == [(CircuitState.CLOSED, CircuitState.OPEN)]  # reads moved nothing
    assert await breaker.call(ok) == "ok"
    assert moves == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]


async def test_outcome_listeners_hear_every_call() -> None:
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5.0, clock=Clock())
    heard: list[str] = []
    breaker.add_outcome_listener(heard.append)
    assert await breaker.call(ok) == "ok"
    with pytest.raises(Boom):
        await breaker.call(fail)
    with pytest.raises(CircuitOpenError):
        await breaker.call(ok)
    assert heard == ["success", "failure", "rejected"]
