"""Limiters against a server of known capacity, in virtual time.

The server serves ``capacity`` requests at once and queues the rest without bound, as an
unprotected service does; a client that waited ``timeout_s`` gives up, but the server
still does the work it queued. Requests arrive open-loop (Poisson) at a rate that follows
the scenario: a step, a ramp, or a steady overload during which the capacity halves. Every
limiter is the real :class:`~lab.patterns.limiter.AdaptiveLimiter` in reject mode; only
the clock is virtual (:mod:`lab.harness.virtual_time`), so a 40 s run takes about a second
and is the same on every machine.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lab.errors import LimitExceededError
from lab.harness.simulate import ServerModel
from lab.harness.virtual_time import run_virtual
from lab.patterns.limiter import AdaptiveLimiter

__all__ = ["BAND", "SCENARIOS", "SimScenario", "SimSettings", "simulate"]

Row = dict[str, Any]
#: A limiter for a run (None: no limiter), given the run's clock.
MakeLimiter = Callable[[Callable[[], float]], AdaptiveLimiter | None]
BAND = 0.15  # "settled": the limit within 15 % of the capacity


@dataclass(frozen=True)
class SimSettings:
    capacity: int = 50
    service_s: float = 0.1
    distribution: str = "lognormal"
    timeout_s: float = 2.0
    before_s: float = 10.0  # light load before the step / the drop
    after_s: float = 30.0  # overload after it
    light: float = 0.25  # offered load before the step, as a share of capacity (at 0.5 a
    # limiter that stops growing at twice what is in flight would already sit at C)
    heavy: float = 2.0  # offered load in overload
    bin_s: float = 0.5


@dataclass(frozen=True)
class SimScenario:
    name: str
    describe: str

    def rate_per_s(self, t: float, s: SimSettings) -> float:
        full = s.capacity / s.service_s
        if self.name == "step":
            return full * (s.light if t < s.before_s else s.heavy)
        if self.name == "ramp":  # light to heavy over the whole run
            share = s.light / 2 + (s.heavy - s.light / 2) * t / (s.before_s + s.after_s)
            return full * share
        return full * s.heavy * 0.75  # "drop": 1.5x, then 3x once the capacity halves

    def capacity_at(self, t: float, s: SimSettings) -> int:
        if self.name == "drop" and t >= s.before_s:
            return s.capacity // 2
        return s.capacity

    def event_s(self, s: SimSettings) -> float:
        """When the overload begins: the step, the drop, or the ramp crossing capacity."""
        if self.name == "ramp":
            total = s.before_s + s.after_s
            return total * (1 - s.light / 2) / (s.heavy - s.light / 2)
        return s.before_s


SCENARIOS = {
    "step": SimScenario("step", "load steps from 0.25x to 2x capacity"),
    "ramp": SimScenario("ramp", "load ramps from 0.125x to 2x capacity"),
    "drop": SimScenario("drop", "1.5x load; capacity halves (now 3x)"),
}


class _Server:
    """``capacity_at(t)`` requests in service at once, a FIFO for the rest."""

    def __init__(self, model: ServerModel, capacity_at: Callable[[float], int]) -> None:
        self.model = model
        self.capacity_at = capacity_at
        self.serving = 0
        self.queue: deque[asyncio.Future[None]] = deque()
        self.rng = random.Random(model.seed)
        self.loop = asyncio.get_running_loop()

    def submit(self) -> asyncio.Future[None]:
        done: asyncio.Future[None] = self.loop.create_future()
        self.queue.append(done)
        self._start()
        return done

    def _start(self) -> None:
        while self.queue and self.serving < self.capacity_at(self.loop.time()):
            done = self.queue.popleft()
            self.serving += 1  # served even if its client gave up: the work is done anyway
            self.loop.call_later(self.model.draw_service(self.rng), self._finish, done)

    def _finish(self, done: asyncio.Future[None]) -> None:
        self.serving -= 1
        if not done.done():
            done.set_result(None)
        self._start()


async def _run(
    scenario: SimScenario, make: MakeLimiter, s: SimSettings, seed: int
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    model = ServerModel(service_s=s.service_s, distribution=s.distribution, seed=seed)
    server = _Server(model, lambda t: scenario.capacity_at(t, s))
    limiter = make(loop.time)
    arrivals = random.Random(seed + 1)
    end = s.before_s + s.after_s
    sent: list[float] = []
    outcome: list[int] = []  # 0 ok, 1 rejected, 2 timed out
    latency: list[float] = []

    async def request(at: float, index: int) -> None:
        permit = None
        if limiter is not None:
            try:
                permit = await limiter.acquire()
            except LimitExceededError:
                outcome[index] = 1
                return
        try:
            await asyncio.wait_for(server.submit(), s.timeout_s)
        except TimeoutError:
            outcome[index] = 2
        latency[index] = loop.time() - at
        if permit is not None and limiter is not None:
            limiter.release(permit, dropped=outcome[index] == 2)

    tasks = []
    t = 0.0
    while True:
        t += arrivals.expovariate(scenario.rate_per_s(t, s))
        if t >= end:
            break
        await asyncio.sleep(max(0.0, t - loop.time()))
        sent.append(t)
        outcome.append(0)
        latency.append(math.nan)
        tasks.append(asyncio.create_task(request(t, len(sent) - 1)))
    await asyncio.gather(*tasks)
    history = list(limiter.stats.history) if limiter is not None else []
    return {
        "sent": np.array(sent),
        "outcome": np.array(outcome),
        "latency": np.array(latency),
        "history": history,
    }


def _limit_at(history: list[tuple[float, int]], times: np.ndarray) -> np.ndarray:
    if not history:
        return np.full(len(times), np.nan)
    changed = np.array([when for when, _ in history])
    values = np.array([limit for _, limit in history], dtype=float)
    return values[np.searchsorted(changed, times, side="right") - 1]


def _settle_s(history: list[tuple[float, int]], event: float, end: float, target: int) -> float:
    """Seconds after ``event`` from which the limit stays within BAND of ``target`` to the
    end (NaN if it is outside the band at the end)."""
    if not history:
        return math.nan
    band = BAND * target
    inside = abs(_limit_at(history, np.array([event]))[0] - target) <= band
    settled_at = event
    for when, limit in history:
        if when <= event:
            continue
        if when > end:
            break
        now_inside = abs(limit - target) <= band
        if now_inside and not inside:
            settled_at = when
        inside = now_inside
    return settled_at - event if inside else math.nan


def _summarize(run: dict[str, Any], scenario: SimScenario, s: SimSettings) -> tuple[Row, list[Row]]:
    sent, outcome, latency = run["sent"], run["outcome"], run["latency"]
    end, event = s.before_s + s.after_s, scenario.event_s(s)
    after = scenario.capacity_at(end - 1e-9, s)
    steady_from = event + (end - event) / 2
    ok = outcome == 0
    light = ok & (sent < min(event, s.before_s)) & (sent >= 1.0)
    heavy = ok & (sent >= steady_from)
    history = run["history"]
    grid = np.linspace(steady_from, end, 200)
    steady_limit = _limit_at(history, grid)
    summary: Row = {
        "requests": len(sent),
        "goodput_rps": float(((outcome == 0) & (sent >= event)).sum() / (end - event)),
        "capacity_rps": after / s.service_s,
        "rejected_share": float((outcome[sent >= event] == 1).mean()),
        "timed_out_share": float((outcome[sent >= event] == 2).mean()),
        "p99_light_ms": float(np.percentile(latency[light], 99) * 1000)
        if light.any()
        else math.nan,
        "p99_overload_ms": float(np.percentile(latency[heavy], 99) * 1000)
        if heavy.any()
        else math.nan,
        "capacity": after,
        "limit_steady": float(np.median(steady_limit)),
        "steady_error": float(np.mean(np.abs(steady_limit - after)) / after),
        "settle_s": _settle_s(history, event, end, after),
        "event_s": event,
    }
    timeline = []
    edges = np.arange(0.0, end + s.bin_s, s.bin_s)
    limits = _limit_at(history, edges[1:])
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        inside = (sent >= lo) & (sent < hi)
        done = inside & ok
        timeline.append(
            {
                "t_s": float(hi),
                "offered_rps": float(inside.sum() / s.bin_s),
                "goodput_rps": float(done.sum() / s.bin_s),
                "p99_ms": float(np.percentile(latency[done], 99) * 1000)
                if done.any()
                else math.nan,
                "limit": float(limits[i]),
                "capacity": scenario.capacity_at(lo, s),
            }
        )
    return summary, timeline


def simulate(
    scenario: SimScenario, make: MakeLimiter, s: SimSettings, seed: int
) -> tuple[Row, list[Row]]:
    """One run: its summary row and its timeline rows (one per ``bin_s``)."""
    return _summarize(run_virtual(_run(scenario, make, s, seed)), scenario, s)
