"""What if the breaker's policy, threshold, window or recovery were different? Breakers
replayed over a failure trace in virtual time: no server, well under a second.

Calls arrive at a fixed rate. Each goes through the lab's real :class:`CircuitBreaker`
(``acquire`` when the call is due, ``release`` when it ends) on a virtual clock; the
downstream's answer comes from the trace: during a fault a call fails (``outage``),
fails with probability ``fail_share`` (``partial``), or takes ``slow_ms`` (``slowdown``).
Calls in flight overlap, as they do against a real server. The table says, per
breaker, how many calls reached the failing downstream, how soon the breaker opened after
the fault began, and how soon it closed after the fault ended.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from lab.errors import CircuitOpenError, ConfigError
from lab.experiments.resilience import tables
from lab.harness import plots
from lab.harness.sliders import display
from lab.patterns.breaker import (
    CircuitBreaker,
    ConsecutiveFailures,
    FailureRate,
    SlowCallRate,
    TripPolicy,
)

__all__ = ["POLICIES", "Trace", "replay", "show"]

POLICIES = ("consecutive", "failure rate", "failure rate (time)", "slow calls")
NO_BREAKER = "no breaker"
TRACES = ("outage", "partial", "slowdown")


@dataclass(frozen=True)
class Trace:
    """The downstream: healthy, then a fault of ``kind`` from ``fault_from_s`` for
    ``fault_for_s``, then healthy again until ``total_s``."""

    kind: str = "outage"
    fault_from_s: float = 2.0
    fault_for_s: float = 4.0
    total_s: float = 12.0
    fail_share: float = 0.3  # partial: the share of calls that fail during the fault
    fast_ms: float = 20.0
    slow_ms: float = 1_500.0  # slowdown: every call during the fault takes this long

    def __post_init__(self) -> None:
        if self.kind not in TRACES:
            raise ConfigError(f"trace kind must be one of {', '.join(TRACES)}, not {self.kind!r}")
        if not 0 <= self.fault_from_s < self.fault_from_s + self.fault_for_s <= self.total_s:
            raise ConfigError("the fault must start at 0 s or later and end by total_s")

    def answer(self, at: float, rng: random.Random) -> tuple[bool, float]:
        """(failed, duration_s) of a call made at ``at``."""
        inside = self.fault_from_s <= at < self.fault_from_s + self.fault_for_s
        if inside and self.kind == "outage":
            return True, self.fast_ms / 1000
        if inside and self.kind == "partial":
            return rng.random() < self.fail_share, self.fast_ms / 1000
        if inside:  # slowdown: slow, not failed
            return False, self.slow_ms / 1000
        return False, self.fast_ms / 1000


def _policy(name: str, threshold: int, rate_percent: float, window: int) -> TripPolicy:
    if name == "consecutive":
        return ConsecutiveFailures(threshold)
    if name == "failure rate":
        return FailureRate(rate_percent, window_size=window, minimum_calls=threshold)
    if name == "failure rate (time)":
        return FailureRate(rate_percent, window_s=1.0, minimum_calls=threshold)
    if name == "slow calls":
        return SlowCallRate(rate_percent, window_size=window, minimum_calls=threshold)
    raise ConfigError(f"policy must be one of {', '.join(POLICIES)}, not {name!r}")


def _one(name: str, trace: Trace, rate_per_s: float, threshold: int, rate_percent: float,
         window: int, recovery_s: float, seed: int) -> list[dict[str, Any]]:  # fmt: skip
    """One variant's calls and transitions, in the experiment's rows (``part`` is the
    trace's kind), so its tables and figures read them."""
    now = [0.0]
    fault = {"fault_start_s": trace.fault_from_s,
             "fault_end_s": trace.fault_from_s + trace.fault_for_s}  # fmt: skip
    head = {"part": trace.kind, "variant": name, "repeat": 0}
    rows: list[dict[str, Any]] = []
    breaker = None
    if name != NO_BREAKER:
        breaker = CircuitBreaker(name=name, clock=lambda: now[0], recovery_timeout=recovery_s,
                                 policy=_policy(name, threshold, rate_percent, window),
                                 slow_call_s=1.0 if name == "slow calls" else None)  # fmt: skip
        breaker.add_listener(lambda _old, new: rows.append({**head, "t_s": now[0],
            "outcome": "transition", "state": new.value, **fault}))  # fmt: skip
    rng = random.Random(seed)
    # events: (time, order, kind, payload); arrivals and call ends, in time order
    calls = int(trace.total_s * rate_per_s)
    events: list[tuple[float, int, str, Any]] = [
        (index / rate_per_s, index, "due", None) for index in range(calls)
    ]
    heapq.heapify(events)
    order = calls
    while events:
        at, _, kind, payload = heapq.heappop(events)
        now[0] = at
        if kind == "due":
            try:
                started = breaker.acquire() if breaker is not None else 0.0
            except CircuitOpenError:
                rows.append({**head, "t_s": at, "outcome": "rejected", "latency_s": 0.0,
                             **fault, "tracks_state": True})  # fmt: skip
                continue
            failed, duration = trace.answer(at, rng)
            order += 1
            heapq.heappush(events, (at + duration, order, "end", (started, failed, at)))
        else:
            started, failed, due = payload
            if breaker is not None:
                breaker.release(started, failed=failed)
            rows.append({**head, "t_s": due, "outcome": "failure" if failed else "success",
                         "latency_s": at - due, **fault,
                         "tracks_state": breaker is not None})  # fmt: skip
    return rows


def replay(policies: tuple[str, ...] = POLICIES, trace: Trace | str | None = None, *,
           rate_per_s: float = 50.0, threshold: int = 5, rate_percent: float = 50.0,
           window: int = 20, recovery_s: float = 2.0, seed: int = 0
           ) -> tuple[pd.DataFrame, Figure]:  # fmt: skip
    """Each policy's breaker over the same trace, plus no breaker at all. ``threshold``:
    consecutive failures to open (and the fewest calls a rate is judged on); a rate
    policy opens at ``rate_percent`` of the last ``window`` calls (or of the last second);
    ``recovery_s``: how long it stays open before a trial call. ``trace``: a
    :class:`Trace`, or the name of a kind with the default timing. The table and figure
    are the experiment's (:func:`tables.breaker_summary`, :func:`plots.outcome_timeline`),
    with the calls refused after the fault ended beside them."""
    trace = Trace(trace) if isinstance(trace, str) else trace or Trace()
    if rate_per_s <= 0 or threshold < 1 or window < 1 or recovery_s < 0:
        raise ConfigError("rate_per_s > 0, threshold >= 1, window >= 1 and recovery_s >= 0")
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        raise ConfigError(f"policies must be some of {', '.join(POLICIES)}, "
                          f"not {', '.join(unknown) or 'none'}")  # fmt: skip
    frame = pd.DataFrame([row for name in (NO_BREAKER, *policies)
                          for row in _one(name, trace, rate_per_s, threshold, rate_percent,
                                          window, recovery_s, seed)])  # fmt: skip
    table = tables.breaker_summary(frame).set_index("variant").rename_axis("policy")
    end = trace.fault_from_s + trace.fault_for_s
    refused = frame[(frame.outcome == "rejected") & (frame.t_s >= end)]
    table["rejected_after_fault"] = refused.groupby("variant").size()
    table["rejected_after_fault"] = table.rejected_after_fault.fillna(0).astype(int)
    columns = ["success_rate", "reached_during_fault", "time_to_open_s", "time_to_recover_s",
               "transitions", "rejected_after_fault"]  # fmt: skip
    title = f"Calls by outcome, {trace.kind} from {trace.fault_from_s:g} s to {end:g} s"
    return table[columns], plots.outcome_timeline(frame, title=title)


def show(kind: str = "outage", fault_for_s: float = 4.0, **arguments: Any) -> None:
    """Display :func:`replay`'s table and figure for a trace of ``kind`` (a notebook
    cell's output); other arguments go to :func:`replay`."""
    trace = Trace(kind, fault_for_s=fault_for_s, total_s=max(12.0, fault_for_s + 8))
    table, figure = replay(trace=trace, **arguments)
    display(table.round(2), figure)
