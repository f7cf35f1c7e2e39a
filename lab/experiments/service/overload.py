"""The service experiment's ``overload`` part: overload without damage, watched by the
SLO's burn-rate alerts.

The optimized service gets its target rate, then ``overload_factor`` times it for
``overload_s``, then the target rate again. What matters is that it stays up, sheds what
it cannot serve (its limiter queues at most 2,000 requests for at most a second, and
answers 503 beyond that, instead of queueing without bound), and meets its lines again
soon after. When ``lab services up`` runs Prometheus, the
objectives' rules (``lab slo rules``, every window divided by ``alert_scale``: an hour
becomes a minute) are loaded for this service, and Prometheus' alerts are read every
second: the fast burn should fire during the overload and stop after it.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.config import endpoints
from lab.errors import ServiceUnavailableError
from lab.harness.loadgen import Schedule, Stage
from lab.harness.promql import instant_values
from lab.harness.services.probes import probe
from lab.harness.services.prometheus_native import (
    instance_of,
    rules_loaded,
    wait_until_scraped,
)
from lab.harness.slo_objectives import load_objectives
from lab.harness.slo_rules import rule_groups

if TYPE_CHECKING:
    from lab.experiments.service.measure import ServiceExperimentSettings
    from lab.harness.loadgen import LoadResult

__all__ = [
    "AlertWatcher",
    "burn_alerts_watched",
    "fast_burn_seconds",
    "overload_schedule",
    "recovery_by_line",
]

Row = dict[str, Any]


def overload_schedule(s: ServiceExperimentSettings) -> tuple[Schedule, tuple[float, float]]:
    """Target rate, a step to the overload, a step back; and the overload's window."""
    high = s.target_rps * s.overload_factor
    step = 0.001  # a ramp this short is a step
    stages = (Stage(s.overload_before_s, s.target_rps), Stage(step, high),
              Stage(s.overload_s, high), Stage(step, s.target_rps),
              Stage(s.overload_after_s, s.target_rps))  # fmt: skip
    start = s.overload_before_s
    return Schedule(stages, start_rps=s.target_rps), (start, start + s.overload_s)


@contextmanager
def burn_alerts_watched(base: str, slo_path: Path, scale: float) -> Iterator[AlertWatcher | None]:
    """The objectives' rules for the service at ``base`` (every window divided by
    ``scale``) loaded into the Prometheus ``lab services up`` started, and its alerts read
    each second while the block runs; yields the watcher, or None when no such
    Prometheus answers. After the block, ``watcher.rules_evaluated`` says whether the
    rules had evaluated over the service's requests: a watcher that read no alert from
    rules that never ran measured nothing."""
    ep = endpoints()
    if not probe("prometheus", ep, timeout=2.0).healthy:
        yield None
        return
    instance = instance_of(base)
    selector = f'service="lab-serve",instance="{instance}"'
    rules = rule_groups(load_objectives(slo_path), selector=selector, scale=scale)
    name = f"lab-service-overload-{instance.replace(':', '-')}"
    with rules_loaded(name, rules, ep.prometheus_url) as path:
        if path is None:
            yield None
            return
        # the rules read the service's requests from its first scrape on: a watch that
        # starts before Prometheus has found the service misses the start of the load
        wait_until_scraped(ep.prometheus_url, instance)
        watcher = AlertWatcher(ep.prometheus_url).start()
        try:
            yield watcher
        finally:
            watcher.stop()  # before the rules are unloaded: it asks for their last value


def fast_burn_seconds(alerts: dict[int, list[str]]) -> list[int]:
    """The seconds the fast burn (14.4x over the scaled hour and five minutes) fired."""
    return sorted(second for second, firing in alerts.items()
                  if any(alert.endswith(" 14.4x") for alert in firing))  # fmt: skip


#: A recording rule the fast-burn alert reads (windows keep their unscaled names).
_FAST_SHORT_WINDOW = "slo:sli_error:ratio_rate5m"


class AlertWatcher:
    """Once a second on a thread: the ``ErrorBudgetBurn`` alerts Prometheus has firing for
    ``slo_names``, as ``"<slo> <burn rate>x"`` strings, by second from ``start()``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.by_second: dict[int, list[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="alert watcher", daemon=True)
        self._began = 0.0
        self.rules_evaluated = False

    def start(self) -> AlertWatcher:
        self._began = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> dict[int, list[str]]:
        self._stop.set()
        self._thread.join(timeout=10)
        # the fast burn's short-window ratio, recorded from the service's requests at any
        # time in the watch (an overwhelmed service may answer nothing in its last seconds)
        span = math.ceil(time.monotonic() - self._began) + 1
        with contextlib.suppress(ServiceUnavailableError, ValueError):
            expr = f"count_over_time({_FAST_SHORT_WINDOW}[{span}s])"
            self.rules_evaluated = bool(instant_values(self.url, expr, time.time()))
        return self.by_second

    def _firing(self) -> list[str]:
        with urllib.request.urlopen(f"{self.url}/api/v1/alerts", timeout=2) as got:
            alerts = json.load(got)["data"]["alerts"]
        return sorted(f"{a['labels']['slo']} {a['labels']['burn_rate']}x" for a in alerts
                      if a["labels"].get("alertname") == "ErrorBudgetBurn"
                      and a["state"] == "firing")  # fmt: skip

    def _loop(self) -> None:
        while not self._stop.wait(1.0 - (time.monotonic() - self._began) % 1.0):
            second = int(time.monotonic() - self._began)
            with contextlib.suppress(OSError, ValueError, KeyError):
                self.by_second[second] = self._firing()


def _values(samples: list[Row], column: str, until_s: float = math.inf) -> list[float]:
    """The samples' ``column`` before ``until_s``, where the sampler read it."""
    return [float(sample[column]) for sample in samples
            if sample["t_s"] < until_s and sample.get(column) is not None]  # fmt: skip


def overload_figures(result: LoadResult, seconds: list[Row], samples: list[Row],
                     window: tuple[float, float], fast_burn: list[int]) -> Row:  # fmt: skip
    """The overload run's summary figures: what was served and shed during the overload,
    the failures from its start to the end of the run (they show up when they time out,
    after the overload's seconds too), the fast-burn alert from the first
    failed request, the limiter's refusals (at once, queue full, and after a second in
    its queue) and the service's memory (RSS in MiB: the
    largest before the overload, the largest at all, the last)."""
    inside = [row for row in seconds if window[0] <= row["t_s"] < window[1]]
    failing = [row["t_s"] for row in seconds if row["t_s"] >= window[0] and row["errors"]]
    refused = {column: _values(samples, column)
               for column in ("limiter_rejected", "limiter_timed_out")}  # fmt: skip
    rss_before = _values(samples, "service_rss_mb", until_s=window[0])
    rss = _values(samples, "service_rss_mb")
    nan = float("nan")
    status_5xx = sum(count for status, count in result.status_counts.items()
                     if status.startswith("5"))  # fmt: skip
    return {
        "achieved_rps": sum(r["rps"] for r in inside) / max(len(inside), 1),
        "requests": sum(r["rps"] for r in inside),
        "errors": sum(r["errors"] for r in seconds if r["t_s"] >= window[0]),
        "error_kinds": ", ".join(f"{kind} {count}" for kind, count
                                 in result.error_counts.most_common()),
        **{f"{column}_delta": max(seen) - min(seen) if seen else nan
           for column, seen in refused.items()},
        "limiter_refusals": sum(max(seen) - min(seen) if seen else nan
                                for seen in refused.values()),
        "rss_before_mb": max(rss_before) if rss_before else nan,
        "rss_peak_mb": max(rss) if rss else nan,
        "rss_last_mb": rss[-1] if rss else nan,
        "generator_requests": result.requests,
        "generator_answered": sum(result.status_counts.values()), "generator_5xx": status_5xx,
        "generator_failed": result.errors,
        "first_failure_s": min(failing) if failing else nan,
        "fast_burn_seconds": len(fast_burn),
        "fast_burn_first_s": min(fast_burn) if fast_burn else nan,
        "fast_burn_last_s": max(fast_burn) if fast_burn else nan,
        "fast_burn_after_failures_s": (min(fast_burn) - min(failing)
                                       if fast_burn and failing else nan),
    }  # fmt: skip


#: Each SLO line as a second of the overload run's timeline shows it: its column there.
#: (concurrent_users: the connections established to the service in that second.)
PER_SECOND = {
    "latency_p50_ms": "p50_ms", "latency_p95_ms": "p95_ms", "latency_p99_ms": "p99_ms",
    "throughput_rps": "ok_rps", "concurrent_users": "service_connections",
    "cpu_percent": "cpu_percent", "memory_percent": "memory_percent",
    "db_connections_percent": "db_connections_percent",
}  # fmt: skip


def recovery_by_line(seconds: list[Row], overload_end_s: float,
                     lines: list[tuple[str, str, float]], settled_for: int = 3) -> Row:  # fmt: skip
    """Per SLO line (``(metric, "below" | "above", target)``), and for failed requests
    (``errors``: none), the seconds from the overload's end until the first of
    ``settled_for`` seconds in a row that meet it (a second without a sample of the
    line does not break a row): NaN when that never came within the run, and absent
    when the timeline does not have the line per second."""
    after = [row for row in seconds if row["t_s"] >= int(overload_end_s)]
    judged: dict[str, list[bool]] = {"errors": [row["errors"] == 0 for row in after]}
    for metric, bound, target in lines:
        column = PER_SECOND.get(metric)
        if column is None or not any(_number(row.get(column)) for row in after):
            continue
        judged[metric] = [_met(row.get(column), bound, target) for row in after]
    found: Row = {}
    for name, good in judged.items():
        found[name] = float("nan")
        for index in range(len(good) - settled_for + 1):
            if all(good[index : index + settled_for]):
                found[name] = float(after[index]["t_s"] - overload_end_s)
                break
    return found


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and value == value


def _met(value: Any, bound: str, target: float) -> bool:
    if not _number(value):
        return True  # no sample in that second (the sampler drifts): not held against it
    return bool(value < target if bound == "below" else value > target)
