from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.harness.results import Run, latest_run, new_run, write_atomic


def test_run_folder_is_named_by_utc_time_and_sha(tmp_path: Path) -> None:
    run = new_run(tmp_path, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert run.path.name.startswith("20260102T030405Z-")
    again = new_run(tmp_path, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert again.path != run.path and again.path.name.endswith("-2")


def test_frames_and_meta_round_trip(tmp_path: Path) -> None:
    run = new_run(tmp_path)
    frame = pd.DataFrame({"service": ["redis", "kafka"], "throughput_ops_s": [1.5, 2.5]})
    run.write_frame("baseline", frame)
    run.write_meta({"quick": True, "experiments": ["baseline"]})
    assert run.read_frame("baseline").equals(frame)
    assert run.meta() == {"quick": True, "experiments": ["baseline"]}
    assert list(run.frames()) == ["baseline"]
    assert sorted(p.name for p in run.path.iterdir()) == ["baseline.csv", "meta.json"]


def test_a_gzipped_frame_reads_as_its_csv(tmp_path: Path) -> None:
    """A committed run (``reference/``) may hold its frames compressed."""
    run = Run(tmp_path)
    frame = pd.DataFrame({"part": ["a", "b"], "value": [1.5, 2.5]})
    frame.to_csv(tmp_path / "caching.csv.gz", index=False)
    run.write_frame("baseline", frame)
    assert run.frame_names() == ["baseline", "caching"]
    assert run.has_frame("caching") and not run.has_frame("cdn")
    assert run.read_frame("caching").equals(frame)
    assert list(run.frames()) == ["baseline", "caching"]


def test_interrupted_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    write_atomic(target, "old\n")

    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_latest_run_skips_folders_without_results(tmp_path: Path) -> None:
    first = new_run(tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))
    first.write_frame("baseline", pd.DataFrame({"a": [1]}))
    new_run(tmp_path, now=datetime(2026, 1, 2, tzinfo=UTC))  # interrupted before any frame
    assert latest_run(tmp_path) == Run(first.path)


def test_no_results_is_a_config_error_with_the_next_step(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lab run --quick"):
        latest_run(tmp_path)
