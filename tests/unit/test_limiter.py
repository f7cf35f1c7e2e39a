"""AdaptiveLimiter's admission in virtual time: FIFO waiters, limit changes, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.errors import ConfigError, LimitExceededError
from lab.harness.virtual_time import run_virtual
from lab.patterns.limit_algorithms import AIMD, LatencyTarget, Sample
from lab.patterns.limiter import AdaptiveLimiter, FixedLimit, Permit


def virtual(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """Run an async test on the virtual-time loop (its sleeps take no real time)."""
    return lambda: run_virtual(test())  # type: ignore[arg-type]


def limiter(initial: int, **kw: Any) -> AdaptiveLimiter:
    loop = asyncio.get_running_loop()
    return AdaptiveLimiter(AIMD(initial, min_limit=1, max_limit=100), clock=loop.time, **kw)


async def hold(lim: AdaptiveLimiter, order: list[int], n: int, release: asyncio.Event) -> None:
    permit = await lim.acquire()
    order.append(n)
    await release.wait()
    lim.release(permit, ignore=True)


@virtual
async def test_raising_the_limit_admits_exactly_the_waiters_it_fits_oldest_first() -> None:
    lim = limiter(2)
    order: list[int] = []
    release = asyncio.Event()
    tasks = [asyncio.create_task(hold(lim, order, n, release)) for n in range(7)]
    await asyncio.sleep(0.01)
    assert (order, lim.in_flight, lim.waiting) == ([0, 1], 2, 5)
    lim.set_limit(5)
    await asyncio.sleep(0.01)
    assert (order, lim.in_flight, lim.waiting) == ([0, 1, 2, 3, 4], 5, 2)
    release.set()
    await asyncio.gather(*tasks)
    assert order == list(range(7)) and lim.in_flight == 0


@virtual
async def test_lowering_the_limit_cancels_no_holder() -> None:
    lim = limiter(5)
    permits = [await lim.acquire() for _ in range(5)]
    lim.set_limit(2)
    assert lim.in_flight == 5  # nobody was cancelled
    late = asyncio.create_task(lim.acquire())
    for permit in permits[:3]:
        lim.release(permit, ignore=True)
        await asyncio.sleep(0)
        assert not late.done()  # 4, 3, 2 in flight: still not below 2
    lim.release(permits[3], ignore=True)
    assert isinstance(await late, Permit)
    assert lim.in_flight == 2


@virtual
async def test_a_queued_caller_gives_up_after_the_queue_timeout() -> None:
    lim = limiter(1, queue_timeout_s=0.5)
    loop = asyncio.get_running_loop()
    held = await lim.acquire()
    began = loop.time()
    with pytest.raises(LimitExceededError, match=r"waited 0\.500 s"):
        await lim.acquire()
    assert loop.time() - began == pytest.approx(0.5)
    assert (lim.stats.timed_out, lim.waiting, lim.in_flight) == (1, 0, 1)
    lim.release(held, ignore=True)
    assert lim.in_flight == 0


@virtual
async def test_reject_mode_refuses_at_once() -> None:
    lim = limiter(1, mode="reject")
    held = await lim.acquire()
    with pytest.raises(LimitExceededError, match="1 in flight at a limit of 1"):
        await lim.acquire()
    assert (lim.stats.rejected, lim.waiting) == (1, 0)
    lim.release(held, ignore=True)
    await lim.acquire()  # a free slot is taken again


@virtual
async def test_a_full_queue_refuses_at_once() -> None:
    lim = limiter(1, max_queue=2)
    await lim.acquire()
    waiters = [asyncio.create_task(lim.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(LimitExceededError, match="2 queued"):
        await lim.acquire()
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert (lim.stats.rejected, lim.waiting, lim.in_flight) == (1, 0, 1)


@virtual
async def test_cancelled_waiters_leak_no_slot() -> None:
    lim = limiter(1)
    held = await lim.acquire()
    queued = asyncio.create_task(lim.acquire())
    admitted_then_cancelled = asyncio.create_task(lim.acquire())
    await asyncio.sleep(0)
    queued.cancel()  # cancelled while waiting
    await asyncio.gather(queued, return_exceptions=True)
    lim.release(held, ignore=True)  # admits the second waiter ...
    admitted_then_cancelled.cancel()  # ... which is cancelled before it resumes
    await asyncio.gather(admitted_then_cancelled, return_exceptions=True)
    assert (lim.in_flight, lim.waiting) == (0, 0)
    await lim.acquire()


@virtual
async def test_async_with_turns_outcomes_into_samples() -> None:
    lim = limiter(10)
    async with lim:
        await asyncio.sleep(0.2)
    with pytest.raises(TimeoutError):
        async with lim:
            raise TimeoutError
    with pytest.raises(KeyError):
        async with lim:
            raise KeyError("a bug in the handler")
    s = lim.stats
    assert (s.acquired, s.samples, s.dropped, s.ignored, lim.in_flight) == (3, 2, 1, 1, 0)
    assert lim.limit == 9  # the drop backed AIMD off: int(10 * 0.9)


@virtual
async def test_nested_entries_in_one_task_release_their_own_permits() -> None:
    lim = limiter(10)
    async with lim:
        async with lim:
            assert lim.in_flight == 2
        assert lim.in_flight == 1
    assert lim.in_flight == 0


@virtual
async def test_a_window_feeds_one_aggregated_sample() -> None:
    loop = asyncio.get_running_loop()
    seen: list[Sample] = []
    rule = LatencyTarget(0.1, initial=4, window_s=1.0)
    original = rule.update
    rule.update = lambda sample: seen.append(sample) or original(sample)  # type: ignore[method-assign]
    lim = AdaptiveLimiter(rule, min_window_samples=3, clock=loop.time)

    async def call(seconds: float) -> None:
        async with lim:
            await asyncio.sleep(seconds)

    for _ in range(4):
        await asyncio.gather(call(0.05), call(0.05), call(0.05))
    assert seen == []  # 12 samples, but the window is not 1 s old yet
    await asyncio.sleep(1.0)
    await asyncio.gather(call(0.05), call(0.05), call(0.05))
    assert len(seen) == 1
    assert (seen[0].samples, seen[0].in_flight) == (13, 3)  # closed by the first late sample
    assert seen[0].rtt_s == pytest.approx(0.05)
    assert lim.limit == 5  # mean 50 ms < 0.8 x 100 ms and 3 of 4 in use: +1


@virtual
async def test_history_records_each_change_with_its_time() -> None:
    loop = asyncio.get_running_loop()
    lim = AdaptiveLimiter(AIMD(3, min_limit=1, max_limit=10), clock=loop.time)
    await asyncio.sleep(1.0)
    lim.set_limit(7)
    lim.set_limit(7)  # no change, no entry
    await asyncio.sleep(1.0)
    lim.set_limit(50)  # beyond max: held at 10
    assert list(lim.stats.history) == [(0.0, 3), (1.0, 7), (2.0, 10)]


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        AdaptiveLimiter(FixedLimit(4), mode="drop")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        FixedLimit(0)


# --- randomised: no admission beyond the limit, no leaked slot ------------------------------

Step = tuple[str, int]
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("acquire"), st.just(0)),
        st.tuples(st.just("release"), st.integers(0, 50)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("set_limit"), st.integers(1, 8)),
        st.tuples(st.just("settle"), st.integers(0, 3)),  # virtual seconds: queue timeouts
    ),
    max_size=60,
)


async def _replay(steps: list[Step]) -> None:
    """Steps run back to back, so a caller can be admitted and cancelled before it
    resumes; the counts are checked whenever the callers have settled."""
    lim = AdaptiveLimiter(FixedLimit(3), max_queue=20, queue_timeout_s=2.0,
                          clock=asyncio.get_running_loop().time)  # fmt: skip
    lim.algorithm.min_limit, lim.algorithm.max_limit = 1, 8
    callers: list[asyncio.Task[Permit]] = []
    holders: list[Permit] = []

    async def settle(seconds: float) -> None:
        await asyncio.sleep(seconds)
        for _ in range(3):
            await asyncio.sleep(0)  # admitted and cancelled callers resume
        for task in [t for t in callers if t.done()]:
            callers.remove(task)
            if not task.cancelled() and task.exception() is None:
                holders.append(task.result())
        assert lim.in_flight == len(holders)  # every slot has a holder, none leaked
        if lim.waiting:
            assert lim.in_flight >= lim.limit  # nobody waits while a slot is free
        assert lim.waiting <= len(callers)

    for kind, n in [*steps, ("settle", 0)]:
        before = lim.in_flight
        if kind == "acquire":
            callers.append(asyncio.create_task(lim.acquire()))
            await asyncio.sleep(0)  # it runs up to its fast path or its queue
        elif kind == "release" and holders:
            lim.release(holders.pop(n % len(holders)), ignore=True)
        elif kind == "cancel" and callers:
            callers[n % len(callers)].cancel()
        elif kind == "set_limit":
            lim.set_limit(n)
        elif kind == "settle":
            await settle(n)
        if lim.in_flight > before:  # someone was admitted by this step ...
            assert lim.in_flight <= lim.limit  # ... never beyond the limit
    for task in callers:
        task.cancel()
    await asyncio.gather(*callers, return_exceptions=True)


@given(STEPS)
def test_no_admission_beyond_the_limit_and_no_leaked_slot(steps: list[Step]) -> None:
    """Random interleavings of acquire, release, cancel, set_limit and queue timeouts."""
    run_virtual(_replay(steps))
