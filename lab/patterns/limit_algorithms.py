"""How an adaptive concurrency limit moves: one small class per rule.

Each algorithm keeps its estimate as a float (``limit``) and is fed one :class:`Sample`
at a time: a request's round-trip time (or a window's mean and p95), the requests in
flight when it started, and whether it was dropped (timed out, rejected downstream).
:class:`~lab.patterns.limiter.AdaptiveLimiter` turns the estimate into an integer within
its bounds. The rules follow Netflix's concurrency-limits (AIMD, Vegas, Gradient2), and
:class:`LatencyTarget` grows or shrinks by a factor against a latency target:

* a step moves the limit by at least one (a fractional step would admit no one more);
* each decision sees one window of latencies, not every latency since start-up;
* it grows only when the window's in-flight count came near the limit, so an idle
  service's limit does not drift to the maximum before a burst.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple, Protocol

from lab.errors import ConfigError

__all__ = [
    "AIMD",
    "Gradient2",
    "LatencyTarget",
    "LimitAlgorithm",
    "Sample",
    "Vegas",
    "log10_step",
]


class Sample(NamedTuple):
    """One request (``samples == 1``) or one window of requests."""

    rtt_s: float  # the round trip (a window: its mean)
    in_flight: int  # requests in flight when it started (a window: the most seen)
    dropped: bool = False  # timed out or refused downstream (a window: any was)
    p95_s: float = 0.0  # a window's 95th percentile; 0 for one request
    samples: int = 1


class LimitAlgorithm(Protocol):
    name: str
    limit: float
    min_limit: int
    max_limit: int
    #: The limiter batches samples into windows of this many seconds (0: every sample).
    window_s: float

    def update(self, sample: Sample) -> float:
        """Take one sample; return the new estimate (also kept in ``limit``)."""
        ...


def _check_bounds(initial: int, min_limit: int, max_limit: int) -> None:
    if not 1 <= min_limit <= max_limit:
        raise ConfigError(f"limits need 1 <= min_limit <= max_limit, got {min_limit}..{max_limit}")
    if not min_limit <= initial <= max_limit:
        raise ConfigError(f"initial limit {initial} is outside {min_limit}..{max_limit}")


def _clamp(value: float, low: int, high: int) -> float:
    return max(float(low), min(float(high), value))


def log10_step(limit: float) -> int:
    """Netflix's Vegas step: ``max(1, int(log10(limit)))`` (1 below 100, 2 below 1000, ...)."""
    return max(1, int(math.log10(limit))) if limit >= 1 else 1


class AIMD:
    """Additive increase, multiplicative decrease: +1 while the limit is in use, times
    ``backoff`` (at least -1) on a drop or an RTT above ``timeout_s``."""

    window_s = 0.0

    def __init__(
        self,
        initial: int = 20,
        *,
        min_limit: int = 1,
        max_limit: int = 200,
        backoff: float = 0.9,
        timeout_s: float = 5.0,
    ) -> None:
        _check_bounds(initial, min_limit, max_limit)
        if not 0.5 <= backoff < 1.0:
            raise ConfigError("backoff must be in [0.5, 1.0)")
        self.name = "aimd"
        self.limit = float(initial)
        self.min_limit, self.max_limit = min_limit, max_limit
        self.backoff, self.timeout_s = backoff, timeout_s

    def update(self, sample: Sample) -> float:
        current = int(self.limit)
        if sample.dropped or sample.rtt_s > self.timeout_s:
            new = max(1, min(current - 1, int(current * self.backoff)), self.min_limit)
        elif sample.in_flight * 2 >= current:
            new = min(current + 1, self.max_limit)
        else:
            return self.limit
        self.limit = float(new)
        return self.limit


class Vegas:
    """TCP Vegas on requests: the queue is ``limit * (1 - rtt_noload / rtt)``; grow while it
    is below ``alpha = 3 * log10_step(limit)``, shrink above ``beta = 6 * log10_step``, and
    jump by beta when it is at most ``threshold = log10_step``. The no-load RTT is the
    smallest seen, re-probed every ``probe_multiplier * limit`` samples (jittered 0.5-1x) so
    it can follow the server when it gets slower for good.

    Fed one request at a time, the smallest RTT is the luckiest request's, and with service
    times that vary the queue looks long at any load: the limit sinks to a few. Netflix
    wraps it in a ``WindowedLimit``; here ``window_s`` (0.5 s) does the same, so each
    sample is a window's mean RTT."""

    window_s = 0.5

    def __init__(
        self,
        initial: int = 20,
        *,
        min_limit: int = 1,
        max_limit: int = 1000,
        smoothing: float = 1.0,
        probe_multiplier: int = 30,
        rng: random.Random | None = None,
    ) -> None:
        _check_bounds(initial, min_limit, max_limit)
        if not 0.0 < smoothing <= 1.0:
            raise ConfigError("smoothing must be in (0, 1]")
        self.name = "vegas"
        self.limit = float(initial)
        self.min_limit, self.max_limit = min_limit, max_limit
        self.smoothing = smoothing
        self.probe_multiplier = probe_multiplier
        self.rtt_noload_s = 0.0
        self.probes = 0
        self._rng = rng or random.Random(0)
        self._since_probe = 0
        self._jitter = self._rng.uniform(0.5, 1.0)

    def update(self, sample: Sample) -> float:
        rtt = sample.rtt_s
        if rtt <= 0:
            return self.limit
        self._since_probe += 1
        if self._jitter * self.probe_multiplier * self.limit <= self._since_probe:
            self._since_probe, self._jitter = 0, self._rng.uniform(0.5, 1.0)
            self.rtt_noload_s = rtt
            self.probes += 1
            return self.limit
        if self.rtt_noload_s == 0 or rtt < self.rtt_noload_s:
            self.rtt_noload_s = rtt
            return self.limit
        estimate = self.limit
        step = log10_step(estimate)
        if sample.dropped:
            target = estimate - step
        elif sample.in_flight * 2 < estimate:
            return self.limit  # not using the limit: no evidence to grow on
        else:
            queue = math.ceil(estimate * (1 - self.rtt_noload_s / rtt))
            if queue <= step:  # threshold: no queue at all, grow fast
                target = estimate + 6 * step
            elif queue < 3 * step:  # alpha
                target = estimate + step
            elif queue > 6 * step:  # beta
                target = estimate - step
            else:
                return self.limit
        target = _clamp(target, self.min_limit, self.max_limit)
        self.limit = (1 - self.smoothing) * estimate + self.smoothing * target
        return self.limit


class Gradient2:
    """Netflix's Gradient2: the gradient ``long_rtt / rtt`` (kept in [0.5, 1]) scales the
    limit, ``queue_size`` is added so it can grow, and ``smoothing`` blends old and new. The
    long RTT is an exponential average over ``long_window`` samples (a plain mean for the
    first 10), cut by 10 % whenever it is more than twice the current RTT, so it recovers
    quickly after a long overload.

    The gradient is capped at 1, so a noisy per-request RTT only ever pulls the limit down;
    samples are a window's mean (``window_s``, 0.5 s), as Netflix's ``WindowedLimit`` gives."""

    window_s = 0.5

    def __init__(
        self,
        initial: int = 20,
        *,
        min_limit: int = 20,
        max_limit: int = 200,
        smoothing: float = 0.2,
        queue_size: int = 4,
        long_window: int = 600,
    ) -> None:
        _check_bounds(initial, min_limit, max_limit)
        if not 0.0 < smoothing <= 1.0:
            raise ConfigError("smoothing must be in (0, 1]")
        self.name = "gradient2"
        self.limit = float(initial)
        self.min_limit, self.max_limit = min_limit, max_limit
        self.smoothing, self.queue_size = smoothing, queue_size
        self.long_rtt_s = 0.0
        self._factor = 2.0 / (long_window + 1)
        self._warmup, self._seen, self._sum = 10, 0, 0.0

    def _long(self, rtt: float) -> float:
        if self._seen < self._warmup:
            self._seen += 1
            self._sum += rtt
            self.long_rtt_s = self._sum / self._seen
        else:
            self.long_rtt_s = self.long_rtt_s * (1 - self._factor) + rtt * self._factor
        return self.long_rtt_s

    def update(self, sample: Sample) -> float:
        rtt = sample.rtt_s
        if rtt <= 0:
            return self.limit
        long_rtt = self._long(rtt)
        if long_rtt / rtt > 2:
            self.long_rtt_s *= 0.9
        if sample.in_flight < self.limit / 2:
            return self.limit  # app-limited: no evidence either way
        gradient = max(0.5, min(1.0, long_rtt / rtt))
        target = self.limit * gradient + self.queue_size
        blended = self.limit * (1 - self.smoothing) + target * self.smoothing
        self.limit = _clamp(blended, self.min_limit, self.max_limit)
        return self.limit


class LatencyTarget:
    """Once per window: p95 above ``shrink_above`` x target shrinks the
    limit by ``shrink`` (at least 1); a mean below ``grow_below`` x target grows it by
    ``grow`` (at least 1), but only when the window used at least half the limit."""

    def __init__(
        self,
        target_s: float,
        initial: int = 20,
        *,
        min_limit: int = 1,
        max_limit: int = 1000,
        window_s: float = 0.5,
        shrink_above: float = 1.5,
        shrink: float = 0.8,
        grow_below: float = 0.8,
        grow: float = 1.1,
    ) -> None:
        _check_bounds(initial, min_limit, max_limit)
        if target_s <= 0:
            raise ConfigError("the latency target must be greater than zero")
        if not 0 < shrink < 1 < grow:
            raise ConfigError("need 0 < shrink < 1 < grow")
        self.name = "latency-target"
        self.limit = float(initial)
        self.min_limit, self.max_limit = min_limit, max_limit
        self.target_s, self.window_s = target_s, window_s
        self.shrink_above, self.shrink = shrink_above, shrink
        self.grow_below, self.grow = grow_below, grow

    def update(self, sample: Sample) -> float:
        current = int(self.limit)
        p95 = sample.p95_s or sample.rtt_s
        if sample.dropped or p95 > self.shrink_above * self.target_s:
            new = min(current - 1, math.floor(current * self.shrink))
        elif sample.rtt_s < self.grow_below * self.target_s and sample.in_flight * 2 >= current:
            new = max(current + 1, math.floor(current * self.grow))
        else:
            return self.limit
        self.limit = _clamp(new, self.min_limit, self.max_limit)
        return self.limit
