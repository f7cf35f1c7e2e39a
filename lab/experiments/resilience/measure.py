"""Resilience: circuit-breaker behaviour under an outage and a slow-down, what a breaker
costs per call, and bounded processing (the Little's law line, flat memory).

Every breaker variant faces the same simulated downstream (a fresh in-process server per
variant, so each meets the outage at the same moment), driven at a fixed call rate.
pybreaker and purgatory, when installed (the ``peers`` extra), run the same scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import aiohttp
import pandas as pd

from lab.errors import CircuitOpenError
from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.harness.aio import outside_event_loop
from lab.harness.simulate import ServerModel, SimulatedServer
from lab.patterns.breaker import CircuitBreaker, ConsecutiveFailures, FailureRate, SlowCallRate
from lab.patterns.concurrency import bounded_map

__all__ = ["ResilienceSettings", "quick_settings", "run"]

Call = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class ResilienceSettings:
    repeats: int = 3
    rate_per_s: float = 100.0
    healthy_s: float = 2.0  # before the fault
    fault_s: float = 3.0  # outage or slow-down length
    after_s: float = 3.0  # after it heals
    recovery_s: float = 1.0  # breakers' wait in OPEN
    slow_extra_s: float = 0.3
    partial_error_rate: float = 0.3
    scenarios: tuple[str, ...] = ("outage", "partial", "slowdown")
    overhead_calls: int = 200_000
    bounded_items: int = 2_000
    bounded_latency_s: float = 0.010
    bounded_limits: tuple[int, ...] = (1, 10, 50, 100)
    memory_items: tuple[int, ...] = (10_000, 100_000)

    @classmethod
    def quick(cls) -> ResilienceSettings:
        return cls(
            repeats=2, healthy_s=1.0, fault_s=1.5, after_s=1.5, recovery_s=0.5,
            overhead_calls=50_000, bounded_items=500, memory_items=(10_000, 50_000),
        )  # fmt: skip


# --- breaker variants: each returns "call through me" for a given raw call ----------------

Guard = Callable[[Call], Awaitable[int]]


def _lab(policy_factory: Callable[[], Any], s: ResilienceSettings, **kw: Any) -> Guard:
    breaker = CircuitBreaker(
        policy=policy_factory(), recovery_timeout=s.recovery_s,
        result_is_failure=lambda status: status >= 500, **kw,
    )  # fmt: skip

    async def guarded(call: Call) -> int:
        return await breaker.call(call)

    guarded.breaker = breaker  # type: ignore[attr-defined]  # _drive records its transitions
    return guarded


def _pybreaker(s: ResilienceSettings) -> Guard:
    import pybreaker

    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=s.recovery_s)

    async def guarded(call: Call) -> int:
        try:
            with breaker.calling():
                status = await call()
                if status >= 500:
                    raise RuntimeError("5xx")
        except pybreaker.CircuitBreakerError as error:
            raise CircuitOpenError("pybreaker", 0.0) from error
        except RuntimeError:
            return 500
        return status

    return guarded


def _purgatory(s: ResilienceSettings) -> Guard:
    from purgatory import AsyncCircuitBreakerFactory

    factory = AsyncCircuitBreakerFactory(default_threshold=5, default_ttl=s.recovery_s)

    async def guarded(call: Call) -> int:
        try:
            async with await factory.get_breaker("downstream"):
                status = await call()
                if status >= 500:
                    raise RuntimeError("5xx")
        except RuntimeError:
            return 500
        except Exception as error:  # purgatory's OpenedState
            raise CircuitOpenError("purgatory", 0.0) from error
        return status

    return guarded


async def _unguarded(call: Call) -> int:
    return await call()


def _variants(scenario: str, s: ResilienceSettings) -> dict[str, Callable[[], Guard]]:
    variants: dict[str, Callable[[], Guard]] = {
        "no breaker": lambda: _unguarded,
        "consecutive(5)": lambda: _lab(lambda: ConsecutiveFailures(5), s),
        "failure rate 50% of 20 calls": lambda: _lab(
            lambda: FailureRate(50, window_size=20, minimum_calls=10), s),
        "failure rate 50% of 1 s": lambda: _lab(
            lambda: FailureRate(50, window_s=1.0, minimum_calls=10), s),
    }  # fmt: skip
    if scenario == "slowdown":
        variants["slow calls 50% of 20 (>100 ms)"] = lambda: _lab(
            lambda: SlowCallRate(50, window_size=20, minimum_calls=10), s, slow_call_s=0.1
        )
    with contextlib.suppress(ImportError):
        import pybreaker  # noqa: F401

        variants["pybreaker(5)"] = lambda: _pybreaker(s)
    with contextlib.suppress(ImportError):
        import purgatory  # noqa: F401

        variants["purgatory(5)"] = lambda: _purgatory(s)
    return variants


async def _drive(scenario: str, variant: str, guard: Guard, s: ResilienceSettings,
                 repeat: int) -> list[Row]:  # fmt: skip
    if scenario == "outage":
        model = ServerModel(outage_start_s=s.healthy_s, outage_for_s=s.fault_s)
    elif scenario == "partial":
        model = ServerModel(outage_start_s=s.healthy_s, outage_for_s=s.fault_s,
                            outage_error_rate=s.partial_error_rate, seed=repeat)  # fmt: skip
    else:
        model = ServerModel(slowdown_start_s=s.healthy_s, slowdown_for_s=s.fault_s,
                            slowdown_extra_s=s.slow_extra_s)  # fmt: skip
    rows: list[Row] = []
    total = s.healthy_s + s.fault_s + s.after_s
    async with (
        SimulatedServer(model) as server,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
    ):
        begun = time.monotonic()
        breaker: CircuitBreaker | None = getattr(guard, "breaker", None)
        if breaker is not None:
            breaker.add_listener(lambda old, new: rows.append({
                "part": scenario, "variant": variant, "repeat": repeat,
                "t_s": time.monotonic() - begun, "outcome": "transition", "state": new.value,
                "fault_start_s": s.healthy_s, "fault_end_s": s.healthy_s + s.fault_s,
            }))  # fmt: skip

        async def raw() -> int:
            async with session.get(server.url) as reply:
                await reply.read()
                return reply.status

        async def one(sent: float) -> None:
            try:
                status = await guard(raw)
                outcome = "success" if status < 500 else "failure"
            except CircuitOpenError:
                outcome = "rejected"
            except (aiohttp.ClientError, TimeoutError):
                outcome = "failure"
            rows.append({"part": scenario, "variant": variant, "repeat": repeat,
                         "t_s": sent, "outcome": outcome,
                         "latency_s": time.monotonic() - begun - sent,
                         "fault_start_s": s.healthy_s,
                         "fault_end_s": s.healthy_s + s.fault_s,
                         "tracks_state": breaker is not None})  # fmt: skip

        tasks = []
        for k in range(int(total * s.rate_per_s)):
            due = k / s.rate_per_s
            delay = due - (time.monotonic() - begun)
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
    return rows


async def _drive_all(scenario: str, s: ResilienceSettings, repeat: int) -> list[Row]:
    """Every variant at once, each against its own server with the same fault schedule."""
    runs = [_drive(scenario, variant, make(), s, repeat)
            for variant, make in _variants(scenario, s).items()]  # fmt: skip
    return [row for rows in await asyncio.gather(*runs) for row in rows]


# --- overhead per call -----------------------------------------------------------------


async def _noop() -> int:
    return 200


async def _per_call_ns(body: Callable[[], Awaitable[None]], calls: int) -> float:
    began = time.perf_counter_ns()
    await body()
    return (time.perf_counter_ns() - began) / calls


#: Test-only: each counted "lab CLOSED" call makes this many calls through the breaker, a
#: known slowdown planted in the hot path to show that ``lab report --compare`` finds one.
PLANT_SLOWDOWN = "LAB_PLANT_BREAKER_SLOWDOWN"


async def _overhead(s: ResilienceSettings, repeat: int) -> list[Row]:
    n = s.overhead_calls
    planted = int(os.environ.get(PLANT_SLOWDOWN, "1"))
    closed = CircuitBreaker()
    opened = CircuitBreaker(failure_threshold=1, recovery_timeout=3600)
    opened.force_open()

    async def bare() -> None:
        for _ in range(n):
            await _noop()

    async def lab_closed() -> None:
        for _ in range(n * planted):
            await closed.call(_noop)

    async def lab_open() -> None:
        for _ in range(n):
            with contextlib.suppress(CircuitOpenError):
                await opened.call(_noop)

    bodies: dict[str, Callable[[], Awaitable[None]]] = {
        "bare await": bare, "lab CLOSED": lab_closed, "lab OPEN (rejection)": lab_open,
    }  # fmt: skip
    with contextlib.suppress(ImportError):
        from purgatory import AsyncCircuitBreakerFactory

        factory = AsyncCircuitBreakerFactory()

        async def purgatory_closed() -> None:
            for _ in range(n):
                async with await factory.get_breaker("x"):
                    await _noop()

        bodies["purgatory CLOSED"] = purgatory_closed
    with contextlib.suppress(ImportError):
        import pybreaker

        sync_breaker = pybreaker.CircuitBreaker()

        async def pybreaker_closed() -> None:
            for _ in range(n):
                with sync_breaker.calling():
                    await _noop()

        bodies["pybreaker CLOSED"] = pybreaker_closed
    costs = {variant: await _per_call_ns(body, n) for variant, body in bodies.items()}
    return [
        {"part": "overhead", "variant": variant, "repeat": repeat, "ns_per_call": ns,
         "overhead_ns": ns - costs["bare await"]}
        for variant, ns in costs.items()
    ]  # fmt: skip


# --- bounded processing ---------------------------------------------------------------


async def _bounded(s: ResilienceSettings, repeat: int) -> list[Row]:
    async def downstream(item: int) -> int:
        await asyncio.sleep(s.bounded_latency_s)
        return item

    rows = []
    for limit in s.bounded_limits:
        began = time.perf_counter()
        count = sum([1 async for _ in bounded_map(downstream, range(s.bounded_items),
                                                  limit=limit)])  # fmt: skip
        elapsed = time.perf_counter() - began
        rows.append({"part": "bounded", "variant": "bounded_map", "repeat": repeat,
                     "limit": limit, "items": count, "items_per_s": count / elapsed,
                     "littles_law_items_per_s": limit / s.bounded_latency_s})  # fmt: skip
    return rows


async def _peak_bytes(make: Callable[[], Awaitable[object]]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        await make()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def _memory(s: ResilienceSettings, repeat: int) -> list[Row]:
    async def tiny(item: int) -> int:
        await asyncio.sleep(0)
        return item

    async def consume(results: AsyncIterator[Any]) -> None:
        async for _ in results:
            pass

    rows = []

    def bounded_run(n: int) -> Callable[[], Awaitable[object]]:
        return lambda: consume(bounded_map(tiny, range(n), limit=100))

    def gather_run(n: int) -> Callable[[], Awaitable[object]]:
        return lambda: asyncio.gather(*(tiny(i) for i in range(n)))

    for items in s.memory_items:
        bounded = await _peak_bytes(bounded_run(items))
        gathered = await _peak_bytes(gather_run(items))
        for variant, peak in (("bounded_map(limit=100)", bounded), ("gather everything", gathered)):
            rows.append({"part": "memory", "variant": variant, "repeat": repeat,
                         "items": items, "peak_mib": peak / 2**20})  # fmt: skip
    return rows


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: ResilienceSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    s = chosen_settings(ResilienceSettings, settings, quick)
    parts: dict[str, Part[ResilienceSettings]] = {
        **{scenario: partial(_drive_all, scenario) for scenario in s.scenarios},
        "overhead": _overhead,
        "bounded": _bounded,
        "memory": _memory,
    }
    return drive("resilience", s, list(parts), parts, progress)


def quick_settings(**overrides: Any) -> ResilienceSettings:
    return replace(ResilienceSettings.quick(), **overrides)
