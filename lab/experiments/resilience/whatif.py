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
import math
import random
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from lab.errors import CircuitOpenError, ConfigError
from lab.harness.sliders import display
from lab.patterns.breaker import (
    CircuitBreaker,
    CircuitState,
    ConsecutiveFailures,
    FailureRate,
    SlowCallRate,
    TripPolicy,
)

__all__ = ["POLICIES", "Trace", "replay", "show"]

POLICIES = ("consecutive", "failure rate", "failure rate (time)", "slow calls")
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
         window: int, recovery_s: float, seed: int
         ) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    now = [0.0]
    breaker = CircuitBreaker(name=name, clock=lambda: now[0], recovery_timeout=recovery_s,
                             policy=_policy(name, threshold, rate_percent, window),
                             slow_call_s=1.0 if name == "slow calls" else None)  # fmt: skip
    changes: list[tuple[float, CircuitState]] = []
    breaker.add_listener(lambda _old, new: changes.append((now[0], new)))
    rng = random.Random(seed)
    # events: (time, order, kind, payload); arrivals and call ends, in time order
    events: list[tuple[float, int, str, Any]] = []
    calls = int(trace.total_s * rate_per_s)
    for index in range(calls):
        heapq.heappush(events, (index / rate_per_s, index, "due", index))
    rows, order = [], calls
    while events:
        at, _, kind, payload = heapq.heappop(events)
        now[0] = at
        if kind == "due":
            try:
                started = breaker.acquire()
            except CircuitOpenError:
                rows.append({"t_s": at, "outcome": "rejected", "reached": False})
                continue
            failed, duration = trace.answer(at, rng)
            order += 1
            heapq.heappush(events, (at + duration, order, "end", (started, failed, at)))
        else:
            started, failed, due = payload
            breaker.release(started, failed=failed)
            rows.append({"t_s": due, "outcome": "failure" if failed else "success",
                         "reached": True})  # fmt: skip
    calls_frame = pd.DataFrame(rows).sort_values("t_s", kind="stable")
    begin, end = trace.fault_from_s, trace.fault_from_s + trace.fault_for_s
    during = calls_frame[(calls_frame.t_s >= begin) & (calls_frame.t_s < end)]
    opened = [t for t, state in changes if state is CircuitState.OPEN and t >= begin]
    closed = [t for t, state in changes if state is CircuitState.CLOSED and t >= end]
    summary = {
        "policy": name,
        "reached_during_fault": int(during.reached.sum()),
        "calls_during_fault": len(during),
        "time_to_open_s": opened[0] - begin if opened else math.nan,
        "time_to_recover_s": closed[0] - end if closed else math.nan,
        "rejected_after_fault": int(
            ((calls_frame.t_s >= end) & (calls_frame.outcome == "rejected")).sum()
        ),
    }
    return summary, calls_frame.assign(policy=name)


def replay(policies: tuple[str, ...] = POLICIES, trace: Trace | str | None = None, *,
           rate_per_s: float = 50.0, threshold: int = 5, rate_percent: float = 50.0,
           window: int = 20, recovery_s: float = 2.0, seed: int = 0
           ) -> tuple[pd.DataFrame, Figure]:  # fmt: skip
    """Each policy's breaker over the same trace, plus no breaker at all. ``threshold``:
    consecutive failures to open (and the fewest calls a rate is judged on); a rate
    policy opens at ``rate_percent`` of the last ``window`` calls (or of the last second);
    ``recovery_s``: how long it stays open before a trial call. ``trace``: a
    :class:`Trace`, or the name of a kind with the default timing."""
    trace = Trace(trace) if isinstance(trace, str) else trace or Trace()
    if rate_per_s <= 0 or threshold < 1 or window < 1 or recovery_s < 0:
        raise ConfigError("rate_per_s > 0, threshold >= 1, window >= 1 and recovery_s >= 0")
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        raise ConfigError(f"policies must be some of {', '.join(POLICIES)}, "
                          f"not {', '.join(unknown) or 'none'}")  # fmt: skip
    begin, end = trace.fault_from_s, trace.fault_from_s + trace.fault_for_s
    unguarded = sum(1 for i in range(int(trace.total_s * rate_per_s))
                    if begin <= i / rate_per_s < end)  # fmt: skip
    summaries = [{"policy": "no breaker", "reached_during_fault": unguarded,
                  "calls_during_fault": unguarded, "time_to_open_s": math.nan,
                  "time_to_recover_s": math.nan, "rejected_after_fault": 0}]  # fmt: skip
    frames = []
    for name in policies:
        summary, calls = _one(name, trace, rate_per_s, threshold, rate_percent, window,
                              recovery_s, seed)  # fmt: skip
        summaries.append(summary)
        frames.append(calls)
    table = pd.DataFrame(summaries).set_index("policy")
    return table, _figure(pd.concat(frames), trace)


def _figure(calls: pd.DataFrame, trace: Trace) -> Figure:
    policies = list(dict.fromkeys(calls.policy))
    fig, axes = plt.subplots(len(policies), 1, figsize=(7, 1.3 * len(policies) + 0.6),
                             sharex=True, squeeze=False)  # fmt: skip
    edges = [i * 0.25 for i in range(int(trace.total_s / 0.25) + 1)]
    colors = {"success": "tab:green", "failure": "tab:red", "rejected": "tab:grey"}
    for ax, policy in zip(axes[:, 0], policies, strict=True):
        rows = calls[calls.policy == policy]
        binned = pd.crosstab(pd.cut(rows.t_s, edges, right=False), rows.outcome)
        bottom = None
        for outcome, color in colors.items():
            if outcome in binned:
                values = binned[outcome].to_numpy()
                ax.bar(edges[:-1], values, width=0.25, align="edge", color=color,
                       bottom=bottom, label=outcome)  # fmt: skip
                bottom = values if bottom is None else bottom + values
        ax.axvspan(trace.fault_from_s, trace.fault_from_s + trace.fault_for_s,
                   color="tab:red", alpha=0.08)  # fmt: skip
        ax.set_ylabel(policy, fontsize=8, rotation=0, ha="right", va="center")
        ax.set_yticks([])
    axes[0, 0].legend(fontsize=7, ncol=3, loc="upper right")
    axes[-1, 0].set_xlabel(f"seconds (virtual); the shaded band is the {trace.kind}")
    fig.suptitle("Calls by outcome, every 0.25 s", x=0.01, ha="left", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show(kind: str = "outage", fault_for_s: float = 4.0, **arguments: Any) -> None:
    """Display :func:`replay`'s table and figure for a trace of ``kind`` (a notebook
    cell's output); other arguments go to :func:`replay`."""
    trace = Trace(kind, fault_for_s=fault_for_s, total_s=max(12.0, fault_for_s + 8))
    table, figure = replay(trace=trace, **arguments)
    display(table.round(2), figure)
