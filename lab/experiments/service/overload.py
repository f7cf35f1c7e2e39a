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
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.config import endpoints
from lab.harness.loadgen import Schedule, Stage
from lab.harness.services.probes import probe
from lab.harness.services.prometheus_native import instance_of, rules_loaded
from lab.harness.slo_objectives import load_objectives
from lab.harness.slo_rules import rule_groups

if TYPE_CHECKING:
    from lab.experiments.service.measure import ServiceExperimentSettings

__all__ = ["AlertWatcher", "overload_schedule", "recovered_after_s", "scaled_rules_loaded"]

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
def scaled_rules_loaded(base: str, slo_path: Path, scale: float) -> Iterator[bool]:
    """The objectives' rules for the service at ``base``, windows divided by ``scale``,
    loaded into the Prometheus ``lab services up`` started while the block runs; yields
    whether they are (no such Prometheus: False)."""
    ep = endpoints()
    if not probe("prometheus", ep, timeout=2.0).healthy:
        yield False
        return
    instance = instance_of(base)
    selector = f'service="lab-serve",instance="{instance}"'
    rules = rule_groups(load_objectives(slo_path), selector=selector, scale=scale)
    name = f"lab-service-overload-{instance.replace(':', '-')}"
    with rules_loaded(name, rules, ep.prometheus_url) as path:
        yield path is not None


class AlertWatcher:
    """Once a second on a thread: the ``ErrorBudgetBurn`` alerts Prometheus has firing for
    ``slo_names``, as ``"<slo> <burn rate>x"`` strings, by second from ``start()``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.by_second: dict[int, list[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="alert watcher", daemon=True)
        self._began = 0.0

    def start(self) -> AlertWatcher:
        self._began = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> dict[int, list[str]]:
        self._stop.set()
        self._thread.join(timeout=10)
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


def recovered_after_s(seconds: list[Row], overload_end_s: float, p99_line_ms: float,
                      settled_for: int = 3) -> float:  # fmt: skip
    """Seconds from the overload's end until the first of ``settled_for`` seconds in a row
    with no error and a p99 under the line; NaN when that never came within the run."""
    after = [row for row in seconds if row["t_s"] >= int(overload_end_s)]
    good = [row["errors"] == 0 and row["rps"] > 0 and row["p99_ms"] < p99_line_ms
            for row in after]  # fmt: skip
    for index in range(len(good) - settled_for + 1):
        if all(good[index : index + settled_for]):
            return float(after[index]["t_s"] - overload_end_s)
    return float("nan")
