"""What would each kind of load tester say about your stall? An open loop (requests due
on a fixed schedule, latency from when each was due) and a closed loop (users who wait
for an answer, then send again, latency from when each was sent) against the same
server, in virtual time: ``workers`` serve requests in arrival order, each for
``service_ms``, and from ``stall_at_s`` nothing is served for ``stall_s``. No server;
well under a second.

The closed loop sends almost nothing while the server stalls (each user waits on one
request), so the stall is a handful of its samples: coordinated omission. The open loop
keeps its schedule, and every request due during the stall waits for it.
"""

from __future__ import annotations

import heapq
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lab.errors import ConfigError
from lab.harness.sliders import display, sliders

__all__ = ["Server", "show", "sliders_here", "what_if"]


class Server:
    """``workers`` first-come first-served, a fixed service time, and one stall: no work
    is done from ``stall_at`` for ``stall_for`` (a request being served then finishes
    that much later)."""

    def __init__(self, workers: int, service_s: float, stall_at: float, stall_for: float
                 ) -> None:  # fmt: skip
        self.service_s = service_s
        self.stall = (stall_at, stall_at + stall_for)
        self.free = [0.0] * workers  # when each worker is next free

    def serve(self, arrival: float) -> float:
        """When a request arriving at ``arrival`` (in time order) is answered."""
        start = max(arrival, heapq.heappop(self.free))
        low, high = self.stall
        if low <= start < high:
            start = high
        finish = start + self.service_s
        if start < low < finish:
            finish += high - low
        heapq.heappush(self.free, finish)
        return finish


def _open(rate: float, duration_s: float, server: Server) -> list[tuple[float, float]]:
    due = np.arange(0.0, duration_s, 1.0 / rate)
    return [(float(t), server.serve(float(t)) - float(t)) for t in due]


def _closed(users: int, duration_s: float, server: Server) -> list[tuple[float, float]]:
    sends = [(0.0, user) for user in range(users)]
    heapq.heapify(sends)
    samples = []
    while sends and sends[0][0] < duration_s:
        sent, user = heapq.heappop(sends)
        answered = server.serve(sent)
        samples.append((sent, answered - sent))
        heapq.heappush(sends, (answered, user))
    return samples


def what_if(stall_s: float = 1.0, rate: float = 200.0, users: int = 2,
            service_ms: float = 10.0, workers: int = 4, duration_s: float = 10.0,
            stall_at_s: float = 5.0) -> tuple[pd.DataFrame, Figure]:  # fmt: skip
    """Each loop's count, rate and latency percentiles, and the share of its samples
    sent or due during the stall; the figure plots every sample's latency by its time."""
    if not (0 < service_ms <= 1000 and 1 <= workers <= 1000 and 1 <= users <= 10_000):
        raise ConfigError("service_ms must be above 0 and at most 1000; workers 1-1000; "
                          "users 1-10000")  # fmt: skip
    if not (0 < rate <= 100_000 and 0 < duration_s <= 600):
        raise ConfigError("rate must be above 0 and at most 100000 per second, the "
                          "duration above 0 and at most 600 s")  # fmt: skip
    if not (stall_s >= 0 and 0 <= stall_at_s < duration_s):
        raise ConfigError("the stall must start within the run and last 0 s or more")
    service_s = service_ms / 1000
    runs = {"open loop (schedule, latency from due time)": _open(
                rate, duration_s, Server(workers, service_s, stall_at_s, stall_s)),
            "closed loop (users wait, latency from send)": _closed(
                users, duration_s, Server(workers, service_s, stall_at_s, stall_s))}  # fmt: skip
    rows = []
    for name, samples in runs.items():
        latency_ms = np.array([latency for _, latency in samples]) * 1000
        during = sum(stall_at_s <= sent < stall_at_s + stall_s for sent, _ in samples)
        rows.append({"loop": name, "requests": len(samples),
                     "per_s": len(samples) / duration_s,
                     **{f"p{q:g}_ms": float(np.percentile(latency_ms, q))
                        for q in (50, 99, 99.9)},
                     "max_ms": float(latency_ms.max()),
                     "share_in_stall_percent": 100 * during / len(samples)})  # fmt: skip
    return pd.DataFrame(rows), _figure(runs, stall_at_s, stall_s)


def _figure(runs: dict[str, list[tuple[float, float]]], stall_at: float, stall_for: float
            ) -> Figure:  # fmt: skip
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.axvspan(stall_at, stall_at + stall_for, color="0.9", label="stall")
    for (name, samples), color in zip(runs.items(), ("tab:blue", "tab:red"), strict=True):
        sent = [t for t, _ in samples]
        ax.plot(sent, [latency * 1000 for _, latency in samples], ".", markersize=2,
                color=color, label=name.split(" (")[0])  # fmt: skip
    ax.set_xlabel("time the request was due (open) or sent (closed), s")
    ax.set_ylabel("latency, ms")
    ax.set_yscale("symlog", linthresh=10)
    ax.legend(fontsize=7, markerscale=4)
    ax.set_title("The same stall through each loop", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show(stall_s: float = 1.0, rate: float = 200.0, users: int = 2,
         service_ms: float = 10.0, workers: int = 4) -> None:  # fmt: skip
    """Display :func:`what_if`'s table and figure (a notebook cell's output)."""
    table, figure = what_if(stall_s, rate, users, service_ms, workers)
    display(table.round(1), figure)


def sliders_here() -> Any:
    """Sliders over :func:`show`."""
    return sliders(show, stall_s=(0.0, 5.0, 0.1), rate=(10.0, 2000.0, 10.0),
                   users=(1, 200, 1), service_ms=(1.0, 100.0, 1.0), workers=(1, 64, 1))  # fmt: skip
