"""``AdaptiveLimiter``: a concurrency limit that moves at runtime, without a semaphore hack.

The limiter owns its count and its FIFO of waiters, so changing the limit is an
assignment (resizing an ``asyncio.Semaphore`` from outside cannot be done safely):

* raising it admits exactly as many waiters as now fit, oldest first;
* lowering it cancels no one: holders finish, and no one new enters until the count is
  below the new limit;
* at the limit a caller either queues (``mode="queue"``: a bounded queue, a timeout) or is
  refused at once (``mode="reject"``); both raise :class:`~lab.errors.LimitExceededError`.

Every release feeds the algorithm (see :mod:`lab.patterns.limit_algorithms`) a sample: the
round trip, the count in flight when the request started, and whether it was dropped.
``async with limiter:`` counts a ``TimeoutError`` inside the block as a drop and ignores
the sample of any other exception (a bug in the handler says nothing about capacity).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, get_args

from lab.errors import ConfigError, LimitExceededError
from lab.patterns.limit_algorithms import LimitAlgorithm, Sample

__all__ = ["AdaptiveLimiter", "FixedLimit", "LimiterStats", "Permit"]

Mode = Literal["queue", "reject"]


class FixedLimit:
    """A limit that never moves (the baseline a fixed semaphore gives)."""

    window_s = 0.0
    static = True  # the limiter skips building samples for it

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ConfigError("a fixed limit must be at least 1")
        self.name = f"fixed({limit})"
        self.limit = float(limit)
        self.min_limit = self.max_limit = limit

    def update(self, sample: Sample) -> float:
        return self.limit


@dataclass
class LimiterStats:
    acquired: int = 0
    rejected: int = 0  # refused at once: limit reached (reject mode) or queue full
    timed_out: int = 0  # waited queue_timeout_s in the queue
    dropped: int = 0  # released as a drop
    ignored: int = 0  # released without a sample
    max_waiting: int = 0
    samples: int = 0
    #: (time, limit) at start and at every change, oldest first (bounded).
    history: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=100_000))


class Permit(NamedTuple):
    """One admission: when it started and how many were in flight then, itself included."""

    started: float
    in_flight: int


class _Window:
    """Samples gathered until the window closes; one aggregated sample comes out."""

    __slots__ = ("began", "dropped", "in_flight", "rtts")

    def __init__(self, began: float) -> None:
        self.began = began
        self.rtts: list[float] = []
        self.in_flight = 0
        self.dropped = False

    def sample(self) -> Sample:
        ordered = sorted(self.rtts)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return Sample(
            rtt_s=sum(ordered) / len(ordered),
            in_flight=self.in_flight,
            dropped=self.dropped,
            p95_s=p95,
            samples=len(ordered),
        )


class AdaptiveLimiter:
    """``async with limiter:`` around the work it protects; or ``acquire()``/``release()``.

    ``window_s`` (default: the algorithm's) batches samples into windows of that many
    seconds with at least ``min_window_samples`` each; 0 feeds every sample. ``clock``
    measures round trips and windows; inject a virtual one in tests.
    """

    def __init__(
        self,
        algorithm: LimitAlgorithm,
        *,
        mode: Mode = "queue",
        max_queue: int = 1000,
        queue_timeout_s: float = 1.0,
        window_s: float | None = None,
        min_window_samples: int = 10,
        name: str = "limiter",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in get_args(Mode):
            raise ConfigError(f"mode must be 'queue' or 'reject', not {mode!r}")
        if max_queue < 0 or queue_timeout_s < 0:
            raise ConfigError("max_queue and queue_timeout_s must not be negative")
        self.algorithm = algorithm
        self.mode: Mode = mode
        self.max_queue = max_queue
        self.queue_timeout_s = queue_timeout_s
        self.name = name
        self.clock = clock
        self.window_s = algorithm.window_s if window_s is None else window_s
        self.min_window_samples = min_window_samples
        self.stats = LimiterStats()
        self.in_flight = 0
        self._limit = self._bounded(algorithm.limit)
        self._estimate = algorithm.limit
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._static = bool(getattr(algorithm, "static", False))
        #: ``async with``: the permit each task holds (and, nested, the ones it held before).
        self._held: dict[asyncio.Task[Any] | None, Permit] = {}
        self._outer: dict[asyncio.Task[Any] | None, list[Permit]] = {}
        self._window: _Window | None = None
        self.stats.history.append((clock(), self._limit))

    # --- the limit ------------------------------------------------------------------------

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _bounded(self, estimate: float) -> int:
        return max(self.algorithm.min_limit, min(self.algorithm.max_limit, int(estimate)))

    def set_limit(self, limit: int) -> None:
        """Move the limit by hand (within the algorithm's bounds); admits waiters that fit."""
        self.algorithm.limit = self._estimate = float(limit)
        self._apply(self._bounded(limit))

    def _apply(self, new: int) -> None:
        if new != self._limit:
            self._limit = new
            self.stats.history.append((self.clock(), new))
        self._admit_waiters()

    def _admit_waiters(self) -> None:
        waiters = self._waiters
        while waiters and self.in_flight < self._limit:
            waiter = waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)

    # --- admission ------------------------------------------------------------------------

    async def acquire(self) -> Permit:
        """A slot, at once or after queueing; ``LimitExceededError`` when refused."""
        in_flight = self.in_flight
        if in_flight < self._limit and not self._waiters:
            self.in_flight = in_flight = in_flight + 1
            self.stats.acquired += 1
            return Permit(self.clock(), in_flight)
        if self.mode == "reject" or len(self._waiters) >= self.max_queue:
            self.stats.rejected += 1
            raise LimitExceededError(
                f"{self.name}: {self.in_flight} in flight at a limit of {self._limit}"
                + ("" if self.mode == "reject" else f" and {len(self._waiters)} queued")
            )
        await self._queue()
        self.stats.acquired += 1
        return Permit(self.clock(), self.in_flight)

    async def _queue(self) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        self.stats.max_waiting = max(self.stats.max_waiting, len(self._waiters))
        timer = loop.call_later(self.queue_timeout_s, self._expire, waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # admitted, then cancelled
                self._release_slot()
            else:
                self._discard(waiter)
            raise
        except LimitExceededError:
            self._discard(waiter)
            raise
        finally:
            timer.cancel()

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            self.stats.timed_out += 1
            waiter.set_exception(
                LimitExceededError(
                    f"{self.name}: waited {self.queue_timeout_s:.3f} s at a limit of {self._limit}"
                )
            )

    def _discard(self, waiter: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):  # already admitted or expired
            self._waiters.remove(waiter)

    def _release_slot(self) -> None:
        self.in_flight -= 1
        if self._waiters:
            self._admit_waiters()

    def release(self, permit: Permit, *, dropped: bool = False, ignore: bool = False) -> None:
        """Give the slot back; the round trip becomes a sample unless ``ignore``."""
        self.in_flight -= 1
        if self._waiters:
            self._admit_waiters()
        stats = self.stats
        if ignore:
            stats.ignored += 1
            return
        if dropped:
            stats.dropped += 1
        if self._static:
            return
        now = self.clock()
        started, in_flight = permit
        stats.samples += 1
        if not self.window_s:
            estimate = self.algorithm.update(Sample(now - started, in_flight, dropped))
            if estimate != self._estimate:  # most samples leave it where it was
                self._estimate = estimate
                new = self._bounded(estimate)
                if new != self._limit:
                    self._apply(new)
            return
        window = self._window
        if window is None:
            window = self._window = _Window(now)
        window.rtts.append(now - started)
        if in_flight > window.in_flight:
            window.in_flight = in_flight
        if dropped:
            window.dropped = True
        if now - window.began >= self.window_s and len(window.rtts) >= self.min_window_samples:
            self._window = None
            self._apply(self._bounded(self.algorithm.update(window.sample())))

    # --- async with -----------------------------------------------------------------------

    async def __aenter__(self) -> Permit:
        in_flight = self.in_flight
        if in_flight < self._limit and not self._waiters:  # acquire()'s fast path, inlined
            self.in_flight = in_flight = in_flight + 1
            self.stats.acquired += 1
            permit = Permit(self.clock(), in_flight)
        else:
            permit = await self.acquire()
        task = asyncio.current_task()
        held = self._held
        if task in held:  # nested in the same task: keep the outer permit aside
            self._outer.setdefault(task, []).append(held[task])
        held[task] = permit
        return permit

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        task = asyncio.current_task()
        permit = self._held.pop(task)
        if self._outer and task in self._outer:
            outer = self._outer[task]
            self._held[task] = outer.pop()
            if not outer:
                del self._outer[task]
        if kind is None:
            self.release(permit)
        elif issubclass(kind, TimeoutError):
            self.release(permit, dropped=True)
        else:
            self.release(permit, ignore=True)
