"""The Kubernetes Indexed Job for distributed load stays in step with `lab loadtest`:
every pod runs a different segment of the same schedule, from the same start."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from lab.cli import app

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "k8s" / "loadtest-indexed-job.yaml"


def test_the_indexed_job_gives_each_pod_its_own_segment() -> None:
    job = yaml.safe_load(MANIFEST.read_text())
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    (container,) = spec["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert spec["completions"] == spec["parallelism"] == int(env["SEGMENTS"])
    command = " ".join(container["args"])
    assert '--segment "$((JOB_COMPLETION_INDEX + 1))/$SEGMENTS"' in command
    assert '--start-at "$START_AT"' in command and "/results/part-$JOB_COMPLETION_INDEX" in command
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert "/results" in mounts


def test_every_option_the_job_uses_exists() -> None:
    command = " ".join(yaml.safe_load(MANIFEST.read_text())["spec"]["template"]["spec"]
                       ["containers"][0]["args"])  # fmt: skip
    help_text = CliRunner().invoke(app, ["loadtest", "--help"], env={"COLUMNS": "200"}).output
    for option in re.findall(r"(--[a-z-]+)", command):
        assert option in help_text, option
