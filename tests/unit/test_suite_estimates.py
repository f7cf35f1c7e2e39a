"""How long ``lab run`` expects an experiment to take: from the newest stored run of the
same kind, else from the first estimates, scaled by the repeats asked for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.experiments.suite import FIRST_ESTIMATE_S, estimate_seconds
from lab.harness.results import new_run


def _stored(root: Path, minute: int, took: float, **meta: Any) -> None:
    run = new_run(root, now=datetime(2026, 1, 1, 0, minute, tzinfo=UTC))
    run.write_meta({"quick": True, "repeats": None, "changes": {}, "skipped": {},
                    "durations_s": {"caching": took}, **meta})  # fmt: skip


def test_the_newest_run_of_the_same_kind_gives_the_estimate(tmp_path: Path) -> None:
    _stored(tmp_path, 1, 100.0)
    _stored(tmp_path, 2, 120.0)
    _stored(tmp_path, 3, 9.0, changes={"caching": {"parts": ["hits"]}})  # one part only
    _stored(tmp_path, 4, 30.0, repeats=1)
    _stored(tmp_path, 5, 400.0, quick=False)
    _stored(tmp_path, 6, 1.0, skipped={"caching": "redis is down"})
    assert estimate_seconds("caching", quick=True, results_root=tmp_path) == 120.0
    assert estimate_seconds("caching", quick=True, results_root=tmp_path, repeats=1) == 30.0
    assert estimate_seconds("caching", quick=False, results_root=tmp_path) == 400.0
    one_part = estimate_seconds("caching", quick=True, results_root=tmp_path,
                                changes={"parts": ["hits"]})  # fmt: skip
    assert one_part == 9.0


def test_a_run_with_changes_to_another_experiment_still_counts(tmp_path: Path) -> None:
    _stored(tmp_path, 1, 100.0, changes={"cdn": {"images": 8}})
    assert estimate_seconds("caching", quick=True, results_root=tmp_path) == 100.0


def test_without_a_run_of_the_same_kind_the_first_estimate_scales_with_repeats(
    tmp_path: Path,
) -> None:
    _stored(tmp_path, 1, 100.0, changes={"caching": {"parts": ["hits"]}})
    quick, full = FIRST_ESTIMATE_S["caching"]
    assert estimate_seconds("caching", quick=True, results_root=tmp_path) == quick
    assert estimate_seconds("caching", quick=False, results_root=tmp_path / "none") == full
    # the quick caching run has 2 repeats, the full one 3
    assert estimate_seconds("caching", quick=True, results_root=tmp_path, repeats=4) == 2 * quick
    assert estimate_seconds("caching", quick=False, results_root=tmp_path, repeats=1) == full / 3
