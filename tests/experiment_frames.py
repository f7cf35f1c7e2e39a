"""One small frame per experiment per pytest run.

Each experiment runs once, with its quick settings trimmed further so that every part
still runs and every asv ``track_*`` finds its row. That one frame feeds the experiment's
integration assertions, the asv track check, the pytest-benchmark smoke test and the
notebooks (which open it from the session's run folder instead of measuring again).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lab.experiments import EXPERIMENTS
from lab.harness.results import Run, git_short_sha


def _settings() -> dict[str, Callable[[], Any]]:
    from lab.experiments.baseline import measure as baseline
    from lab.experiments.caching import measure as caching
    from lab.experiments.cdn import measure as cdn
    from lab.experiments.database import measure as database
    from lab.experiments.load_control import measure as load_control
    from lab.experiments.load_control.simulation import SimSettings
    from lab.experiments.loadgen import measure as loadgen
    from lab.experiments.messaging import measure as messaging
    from lab.experiments.resilience import measure as resilience
    from lab.experiments.service import measure as service

    return {
        "service": lambda: service.quick_settings(
            ramp_s=2.0, hold_s=3.0, beyond_s=0.0, search_steps=0, search_run_s=2.0, fault_s=6.0,
            redis_down_s=(3.5, 1.0),
            overload_before_s=1.0, overload_s=2.0, overload_after_s=2.0, profile_s=2.0,
        ),
        "baseline": lambda: baseline.quick_settings(
            duration_s=0.2, repeats=1, concurrencies=(1, 32),
            redis_native_requests=2000, kafka_native_records=5000,
        ),
        "loadgen": lambda: loadgen.quick_settings(
            repeats=1, accuracy_s=1.5, stall_every_s=1.0, stall_for_s=0.3, stall_run_s=2.0,
            saturation_s=2.0,  # Locust reports nothing from a shorter run
            tls_rps=200, tls_s=0.5,
        ),
        "caching": lambda: caching.quick_settings(
            repeats=1, keyspace=500, requests=5_000, skews=(1.0,), size_fractions=(0.1,),
            callers=(10, 1000), stampede_ttl_s=1.0, hit_ops=200, memory_ops=1_000, rounds=2,
            native_requests=5_000, outage_rate=100, outage_s=(0.4, 0.5, 0.6),
        ),
        "cdn": lambda: cdn.quick_settings(variants=("none", "lazy", "all"), images=8, round_s=0.3),
        "database": lambda: database.quick_settings(
            repeats=1, users=2_000, posts=20_000, pool_sizes=(1, 4, 16), load_s=0.5,
            pgbench_s=1, clients=(8, 32), acquire_ops=500, page_depths=(1, 1000),
            in_lengths=(1, 50), in_queries=30,
        ),
        "load_control": lambda: load_control.quick_settings(
            repeats=1, sim=SimSettings(capacity=10, before_s=2.0, after_s=6.0),
            scenarios=("step", "drop"),
            sim_variants=("no limiter", "fixed(C)", "vegas", "gradient2"),
            http_light_s=0.5, http_heavy_s=2.0, http_variants=("no limiter", "vegas"),
            overhead_ops=2_000, monitoring_s=0.3, monitoring_rounds=1, monitoring_stage_ops=2_000,
        ),
        "messaging": lambda: messaging.quick_settings(
            repeats=1, producer_cases=messaging.DEFAULT_CASES[:1], produce_records=3_000,
            consume_records=3_000, end_to_end_records=400, scale_workers=(1, 4),
            scale_records=400, native_records=20_000,
            parts=("produce", "consume", "end_to_end", "scale_out"),  # crash: its own test
        ),
        "resilience": lambda: resilience.quick_settings(
            repeats=1, rate_per_s=60, healthy_s=1.0, fault_s=1.5, after_s=1.5, recovery_s=0.3,
            overhead_calls=2_000, bounded_items=100, bounded_limits=(1, 10),
            memory_items=(5_000, 40_000), scenarios=("outage", "slowdown"),
        ),
    }  # fmt: skip


def trimmed_settings(name: str) -> Any:
    """The settings the test suite measures ``name`` with."""
    return _settings()[name]()


#: Experiments whose figures include the machine's CPU (psutil): CPU used at idle priority
#: counts as busy there, so ``make test`` starts its idle work (the unit tests and static
#: checks) only once these frames are stored.
MACHINE_CPU = ("service",)
#: A file ``make test`` waits for before it starts that idle work: made once every frame
#: of ``MACHINE_CPU`` is stored (the Makefile makes it itself when the measuring ends).
IDLE_GATE = "LAB_TEST_IDLE_GATE"


def open_idle_gate() -> None:
    gate = os.environ.get(IDLE_GATE)
    if gate:
        Path(gate).touch()


class SessionFrames:
    """Frames measured on first use and kept for the session, each also written to
    ``run`` as a stored run (CSV and ``meta.json``), the way ``lab run`` writes one."""

    def __init__(self, folder: Path) -> None:
        self.run = Run(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._frames: dict[str, pd.DataFrame] = {}
        self._when_stored: dict[str, list[Callable[[], object]]] = {}

    def __call__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            frame = EXPERIMENTS[name].run(settings=trimmed_settings(name))
            self.run.write_frame(name, frame)
            self._frames[name] = frame
            self.run.write_meta({
                "quick": True, "commit": git_short_sha(), "finished": sorted(self._frames),
                "started": datetime.now(UTC).isoformat(), "settings": "tests (trimmed)",
            })  # fmt: skip
            if name in MACHINE_CPU and all(done in self._frames for done in MACHINE_CPU):
                open_idle_gate()
            for then in self._when_stored.pop(name, []):
                then()
        return self._frames[name]

    def when_stored(self, name: str, then: Callable[[], object]) -> None:
        """Call ``then`` once ``name``'s frame is stored: now, or when it is measured."""
        if name in self._frames:
            then()
        else:
            self._when_stored.setdefault(name, []).append(then)
