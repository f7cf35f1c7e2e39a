"""The notebook timer refuses what is not a stored run, with one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.harness.notebook_times import main


def test_a_folder_without_meta_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--run", str(tmp_path)]) == 2
    assert main(["--run", "reference", "--repeats", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("is not a stored run" in line for line in err)
