"""A circuit breaker with resilience4j's semantics, for asyncio.

::

    CLOSED --(policy trips)--> OPEN --(wait elapsed)--> HALF_OPEN --(all trials pass)--> CLOSED
                                 ^                          |
                                 +----(any trial fails)-----+   (the wait may grow each time)

    FORCED_OPEN rejects everything; DISABLED lets everything through and records nothing.

What trips it is a policy: consecutive failures, the failure rate over
a sliding window of the last N calls or the last T seconds, or the slow-call rate. HALF_OPEN
admits exactly ``half_open_max_calls`` trial calls; every other caller is rejected at
once with :class:`~lab.errors.CircuitOpenError`, which says when the next trial may run.
Time comes from ``clock`` (seconds, monotonic), so tests run in virtual time.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import functools
import inspect
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ParamSpec, Protocol, TypeVar

from lab.errors import CircuitOpenError, ConfigError

__all__ = [
    "BreakerMetrics",
    "BreakerStats",
    "CircuitBreaker",
    "CircuitState",
    "ConsecutiveFailures",
    "FailureRate",
    "SlowCallRate",
    "TripPolicy",
]

P = ParamSpec("P")
R = TypeVar("R")
Clock = Callable[[], float]
Listener = Callable[["CircuitState", "CircuitState"], None]
OutcomeListener = Callable[[str], None]


class CircuitState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    FORCED_OPEN = "forced_open"
    DISABLED = "disabled"


#: One recorded call: (failed, slow, at). A plain tuple: this is the hot path.
Outcome = tuple[bool, bool, float]


class TripPolicy(Protocol):
    """Decides, from recorded outcomes, when a CLOSED circuit opens. ``timed`` says whether
    it needs the time of each call (a time-based window does)."""

    timed: bool

    def record(self, failed: bool, slow: bool, at: float) -> None: ...

    def should_trip(self, now: float) -> bool: ...

    def reset(self) -> None: ...


class ConsecutiveFailures:
    """Open after ``threshold`` failures in a row (pybreaker's rule too)."""

    timed = False

    def __init__(self, threshold: int = 5) -> None:
        if threshold < 1:
            raise ConfigError("failure threshold must be at least 1")
        self.threshold = threshold
        self.run = 0

    def record(self, failed: bool, slow: bool, at: float) -> None:
        self.run = self.run + 1 if failed else 0

    def should_trip(self, now: float) -> bool:
        return self.run >= self.threshold

    def reset(self) -> None:
        self.run = 0


class _Window:
    """The last ``size`` outcomes, or the outcomes of the last ``seconds``."""

    def __init__(self, size: int | None, seconds: float | None) -> None:
        if (size is None) == (seconds is None):
            raise ConfigError("a sliding window takes either size (calls) or seconds")
        if (size is not None and size < 1) or (seconds is not None and seconds <= 0):
            raise ConfigError("a sliding window must hold at least one call or second")
        self.seconds = seconds
        self.outcomes: deque[Outcome] = deque(maxlen=size)

    def current(self, now: float) -> deque[Outcome]:
        if self.seconds is not None:
            while self.outcomes and self.outcomes[0][2] <= now - self.seconds:
                self.outcomes.popleft()
        return self.outcomes


class FailureRate:
    """Open when at least ``rate_percent`` of the window's calls failed, once the window
    holds ``minimum_calls`` calls. Count-based (``window_size``) or time-based."""

    def __init__(
        self,
        rate_percent: float = 50.0,
        *,
        window_size: int | None = 100,
        window_s: float | None = None,
        minimum_calls: int = 10,
    ) -> None:
        if window_s is not None:
            window_size = None
        if not 0 < rate_percent <= 100 or minimum_calls < 1:
            raise ConfigError("rate_percent must be in (0, 100] and minimum_calls >= 1")
        self.rate_percent = rate_percent
        self.minimum_calls = minimum_calls
        self.window = _Window(window_size, window_s)
        self.timed = window_s is not None
        self._which = 0  # which field of an outcome counts against the rate: failed

    def record(self, failed: bool, slow: bool, at: float) -> None:
        self.window.outcomes.append((failed, slow, at))

    def should_trip(self, now: float) -> bool:
        calls = self.window.current(now)
        if len(calls) < self.minimum_calls:
            return False
        which = self._which
        bad = sum(1 for outcome in calls if outcome[which])
        return 100.0 * bad / len(calls) >= self.rate_percent

    def reset(self) -> None:
        self.window.outcomes.clear()


class SlowCallRate(FailureRate):
    """Open when at least ``rate_percent`` of the window's calls were slow (took longer
    than the breaker's ``slow_call_s``), failed or not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._which = 1  # slow


@dataclass
class BreakerStats:
    successes: int = 0
    failures: int = 0
    slow: int = 0
    ignored: int = 0
    rejected: int = 0
    transitions: int = 0


class CircuitBreaker:
    """See the module docstring. Keyword-only settings with production-safe defaults."""

    def __init__(
        self,
        *,
        name: str = "breaker",
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        half_open_max_calls: int = 1,
        clock: Clock | None = None,
        policy: TripPolicy | None = None,
        slow_call_s: float | None = None,
        record: tuple[type[BaseException], ...] = (Exception,),
        ignore: tuple[type[BaseException], ...] = (),
        is_failure: Callable[[BaseException], bool] | None = None,
        result_is_failure: Callable[[Any], bool] | None = None,
        backoff_multiplier: float = 1.0,
        max_recovery_timeout: float | None = None,
        fallback: Callable[..., Any] | None = None,
        metrics: BreakerMetrics | None = None,
    ) -> None:
        if recovery_timeout < 0 or half_open_max_calls < 1 or backoff_multiplier < 1:
            raise ConfigError(
                "recovery_timeout must be >= 0, half_open_max_calls >= 1, backoff_multiplier >= 1"
            )
        self.name = name
        self.recovery_timeout = recovery_timeout
        self.half_open_max_calls = half_open_max_calls
        self.clock: Clock = clock or time.monotonic
        self.policy: TripPolicy = policy or ConsecutiveFailures(failure_threshold)
        self.slow_call_s = slow_call_s
        self.record_types, self.ignore_types = record, ignore
        self.is_failure, self.result_is_failure = is_failure, result_is_failure
        self.backoff_multiplier = backoff_multiplier
        self.max_recovery_timeout = max_recovery_timeout or recovery_timeout * 32
        self.fallback = fallback
        self.metrics = metrics
        self.stats = BreakerStats()
        self._state = CircuitState.CLOSED
        self._opened_at = 0.0
        self._wait = recovery_timeout
        self._trials_started = 0
        self._trials_passed = 0
        self._listeners: list[Listener] = []
        # Read the clock per call only when something needs it (slow calls, time windows).
        self._timed = slow_call_s is not None or getattr(self.policy, "timed", True)
        self._entered: contextvars.ContextVar[float] = contextvars.ContextVar(f"{name}-entered")
        self._outcome_listeners: list[OutcomeListener] = []
        if metrics is not None:
            metrics.track(self)

    # --- state -------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state. An OPEN circuit whose wait has elapsed reads HALF_OPEN; it
        moves there (and listeners hear of it) when the next call asks to pass."""
        if self._state is CircuitState.OPEN and self._wait_elapsed():
            return CircuitState.HALF_OPEN
        return self._state

    def _wait_elapsed(self) -> bool:
        return self.clock() - self._opened_at >= self._wait

    @property
    def retry_after(self) -> float:
        """Seconds until an OPEN circuit admits a trial call (0 when not OPEN)."""
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self._wait - self.clock())

    def add_listener(self, listener: Listener) -> None:
        """``listener(old, new)`` is called once per transition."""
        self._listeners.append(listener)

    def add_outcome_listener(self, listener: OutcomeListener) -> None:
        """``listener(outcome)`` is called once per call: ``"success"``, ``"failure"``,
        ``"ignored"`` or ``"rejected"`` (metrics count calls this way)."""
        self._outcome_listeners.append(listener)

    def _tell(self, outcome: str) -> None:
        for listener in self._outcome_listeners:
            listener(outcome)

    def _move(self, new: CircuitState) -> None:
        old = self._state
        if old is new:
            return
        self._state = new
        self.stats.transitions += 1
        if new is CircuitState.OPEN:
            self._opened_at = self.clock()
        if new is CircuitState.HALF_OPEN:
            self._trials_started = self._trials_passed = 0
        if new is CircuitState.CLOSED:
            self.policy.reset()
            self._wait = self.recovery_timeout
        for listener in self._listeners:
            listener(old, new)

    def force_open(self) -> None:
        self._move(CircuitState.FORCED_OPEN)

    def disable(self) -> None:
        self._move(CircuitState.DISABLED)

    def reset(self) -> None:
        """Back to CLOSED with an empty window."""
        self._move(CircuitState.CLOSED)
        self.policy.reset()

    # --- the permission protocol ---------------------------------------------------------

    def acquire(self) -> float:
        """Ask to make a call. Returns the start time; raises CircuitOpenError if refused."""
        if self._state is CircuitState.OPEN and self._wait_elapsed():
            self._move(CircuitState.HALF_OPEN)
        state = self._state
        if state is CircuitState.CLOSED or state is CircuitState.DISABLED:
            return self.clock() if self._timed else 0.0
        if state is CircuitState.HALF_OPEN and self._trials_started < self.half_open_max_calls:
            self._trials_started += 1
            return self.clock() if self._timed else 0.0
        self.stats.rejected += 1
        if self._outcome_listeners:
            self._tell("rejected")
        retry_after = self.retry_after if state is CircuitState.OPEN else self._wait
        raise CircuitOpenError(self.name, retry_after)

    def _counts_as_failure(self, error: BaseException) -> bool | None:
        """True/False for a recorded error; None for one that is ignored."""
        if isinstance(error, self.ignore_types) or not isinstance(error, self.record_types):
            return None
        return self.is_failure(error) if self.is_failure is not None else True

    def release(self, started: float, *, failed: bool | None) -> None:
        """Record the outcome of a call admitted by :meth:`acquire`. ``failed=None`` means
        the outcome is ignored (its half-open trial slot is given back)."""
        state = self._state
        if state is CircuitState.DISABLED or state is CircuitState.FORCED_OPEN:
            return
        if self._outcome_listeners:
            self._tell("ignored" if failed is None else "failure" if failed else "success")
        if failed is None:
            self.stats.ignored += 1
            if state is CircuitState.HALF_OPEN:
                self._trials_started = max(0, self._trials_started - 1)
            return
        now = self.clock() if self._timed else 0.0
        slow = self.slow_call_s is not None and now - started > self.slow_call_s
        self.stats.failures += failed
        self.stats.successes += not failed
        self.stats.slow += slow
        if state is CircuitState.HALF_OPEN:
            if failed or (slow and isinstance(self.policy, SlowCallRate)):
                self._wait = min(self._wait * self.backoff_multiplier, self.max_recovery_timeout)
                self._move(CircuitState.OPEN)
            else:
                self._trials_passed += 1
                if self._trials_passed >= self.half_open_max_calls:
                    self._move(CircuitState.CLOSED)
            return
        if state is CircuitState.CLOSED:
            self.policy.record(failed, slow, now)
            if self.policy.should_trip(now):
                self._move(CircuitState.OPEN)

    # --- ways to use it ------------------------------------------------------------------

    async def call(self, fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """``await fn(*args, **kwargs)`` through the breaker."""
        if self._state is CircuitState.CLOSED and not self._timed:
            started = 0.0  # the hot path: CLOSED admits everyone and no clock is needed
        else:
            try:
                started = self.acquire()
            except CircuitOpenError:
                if self.fallback is None:
                    raise
                value = self.fallback(*args, **kwargs)
                return await value if inspect.isawaitable(value) else value  # type: ignore[no-any-return]
        try:
            result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            self.release(started, failed=None)
            raise
        except BaseException as error:
            self.release(started, failed=self._counts_as_failure(error))
            raise
        predicate = self.result_is_failure
        self.release(started, failed=predicate is not None and bool(predicate(result)))
        return result

    def __call__(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Use as a decorator on an ``async def``."""
        if not inspect.iscoroutinefunction(fn):
            raise TypeError("CircuitBreaker decorates async functions; use call() otherwise")

        @functools.wraps(fn)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            return await self.call(fn, *args, **kwargs)

        return guarded

    async def __aenter__(self) -> CircuitBreaker:
        # A context variable: concurrent tasks sharing the breaker each keep their own start.
        self._entered.set(self.acquire())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        started = self._entered.get()
        if error is None:
            self.release(started, failed=False)
        elif isinstance(error, asyncio.CancelledError):
            self.release(started, failed=None)
        else:
            self.release(started, failed=self._counts_as_failure(error))


class BreakerMetrics:
    """Prometheus metrics for breakers: state, calls by outcome, transitions.

    Optional (a breaker without it pays nothing): ``CircuitBreaker(metrics=BreakerMetrics())``.
    Create one per registry and share it among breakers; they are told apart by name.
    In prometheus_client's multiprocess mode each worker's state is a series of its own
    (a ``pid`` label) that goes when the worker does.
    """

    def __init__(self, registry: Any | None = None) -> None:
        from prometheus_client import REGISTRY, Counter, Gauge

        where = registry if registry is not None else REGISTRY
        self.state = Gauge(
            "lab_circuit_breaker_state",
            "1 for the state the breaker is in, else 0",
            ["name", "state"],
            registry=where,
            multiprocess_mode="liveall",
        )
        self.calls = Counter(
            "lab_circuit_breaker_calls", "Calls by outcome", ["name", "outcome"], registry=where
        )
        self.transitions = Counter(
            "lab_circuit_breaker_transitions",
            "State transitions",
            ["name", "from", "to"],
            registry=where,
        )

    def track(self, breaker: CircuitBreaker) -> None:
        outcomes = {
            outcome: self.calls.labels(breaker.name, outcome)
            for outcome in ("success", "failure", "ignored", "rejected")
        }

        def on_outcome(outcome: str) -> None:
            outcomes[outcome].inc()

        def on_transition(old: CircuitState, new: CircuitState) -> None:
            self.transitions.labels(breaker.name, old.value, new.value).inc()
            self.state.labels(breaker.name, old.value).set(0)
            self.state.labels(breaker.name, new.value).set(1)

        breaker.add_outcome_listener(on_outcome)
        breaker.add_listener(on_transition)
        for state in CircuitState:  # every state's series, so a dashboard sees the zeros
            self.state.labels(breaker.name, state.value).set(1 if state is breaker.state else 0)
