"""Which stored run a notebook opens: the newest holding the experiment, else the
committed reference run; and what it says about that run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.experiments import EXPERIMENTS, stored
from lab.experiments.stored import open_or_measure
from lab.harness.results import Run, new_run


def _run(root: Path, day: int, *names: str) -> Run:
    run = new_run(root, now=datetime(2026, 1, day, tzinfo=UTC))
    for name in names:
        run.write_frame(name, pd.DataFrame({"part": ["x"], "day": [day]}))
    run.write_meta({"git_sha": f"sha{day}", "started_utc": f"2026-01-0{day}", "quick": True,
                    "machine": {"cores": 2, "cpu_model": "Test CPU"}})  # fmt: skip
    return run


def test_the_newest_run_holding_the_experiment_is_opened(tmp_path: Path) -> None:
    older, newer = _run(tmp_path, 1, "caching"), _run(tmp_path, 2, "baseline")
    assert stored.newest_run_with("caching", [tmp_path]) == older
    assert stored.newest_run_with("baseline", [tmp_path]) == newer


def test_without_a_run_of_ones_own_the_reference_run_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _run(tmp_path / "ref", 3, "caching")
    monkeypatch.setattr(stored, "REFERENCE", reference.path)
    assert stored.newest_run_with("caching", [tmp_path / "none"]) == reference
    assert stored.newest_run_with("cdn", [tmp_path / "none"]) is None


def test_opening_says_which_run_it_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path, 4, "caching")
    frame = stored.open_or_measure("caching", run=run.path)
    assert frame.day.tolist() == [4]
    said = capsys.readouterr().out
    assert f"caching: run {run.path.name}: commit sha4, started 2026-01-04, quick" in said
    assert "2 cores, Test CPU" in said


def test_a_run_without_the_experiment_is_a_clear_error(tmp_path: Path) -> None:
    run = _run(tmp_path, 5, "baseline")
    with pytest.raises(ConfigError, match="holds no caching results"):
        stored.open_or_measure("caching", run=run.path)
    with pytest.raises(ConfigError, match="unknown experiment"):
        stored.open_or_measure("no such", run=run.path)


def test_changes_to_settings_are_checked_by_name() -> None:
    with pytest.raises(ConfigError, match=r"cdn has no setting 'pictures'; its settings: .*images"):
        EXPERIMENTS["cdn"].run(quick=True, changes={"pictures": 8})
    with pytest.raises(ConfigError, match="repeats must be at least 1"):
        open_or_measure("cdn", run="measure", quick=True, changes={"images": 8, "repeats": 0})


def test_a_list_given_for_a_tuple_setting_becomes_a_tuple() -> None:
    base = EXPERIMENTS["cdn"].module("measure").quick_settings()
    changed = EXPERIMENTS["cdn"].checked_changes(base, {"variants": ["none", "all"], "images": 8})
    assert changed == {"variants": ("none", "all"), "images": 8}


def test_lab_run_set_is_checked_before_anything_runs() -> None:
    from lab.experiments.suite import parse_changes

    assert parse_changes(["baseline.duration_s=0.2", "baseline.concurrencies=[1, 32]"],
                         ["baseline"]) == {"baseline": {"duration_s": 0.2,
                                                        "concurrencies": [1, 32]}}  # fmt: skip
    for given, words in (("baseline.duration_s", "is not EXPERIMENT.SETTING=VALUE"),
                         ("caching.keyspace=5", "'caching' is not in this run"),
                         ("baseline.speed=5", "baseline has no setting 'speed'; its settings"),
                         ("baseline.duration_s=[1", "is not a value")):  # fmt: skip
        with pytest.raises(ConfigError, match=words):
            parse_changes([given], ["baseline"])
