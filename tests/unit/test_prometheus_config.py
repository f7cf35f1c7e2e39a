"""The Prometheus configurations the lab ships: the one `lab services up` generates and
docker-compose.yml's, both accepted by `promtool check config`, scraping alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from lab.config import Endpoints
from lab.harness.services.prometheus_native import config_text, registered_target, targets_folder
from tests.conftest import skip_unless_required

ROOT = Path(__file__).resolve().parents[2]


def _check(path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_unless_required("promtool is not installed (`make tools` installs prometheus)")
        return
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_the_generated_and_the_compose_configuration_agree(tmp_path: Path) -> None:
    ep = Endpoints("redis://127.0.0.1:6379/0", "postgresql://lab@127.0.0.1/lab", "127.0.0.1:9092")
    generated = tmp_path / "prometheus.yml"
    generated.write_text(config_text(ep, tmp_path))
    compose = ROOT / "docs" / "prometheus" / "compose-prometheus.yml"
    for path in (generated, compose):
        _check(path)
    ours, theirs = yaml.safe_load(generated.read_text()), yaml.safe_load(compose.read_text())
    assert ours["global"] == theirs["global"] == {
        "scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"}  # fmt: skip
    assert [job["job_name"] for job in ours["scrape_configs"]] == ["prometheus", "lab"]
    assert [job["job_name"] for job in theirs["scrape_configs"]] == ["prometheus", "lab"]
    assert ours["rule_files"] == [str(tmp_path / "prometheus" / "rules" / "*.yml")]


def test_targets_are_registered_only_with_a_prometheus_of_ours(tmp_path: Path) -> None:
    targets = targets_folder(tmp_path)
    targets.mkdir(parents=True)
    with registered_target("lab-serve", "127.0.0.1:8000", home=tmp_path) as path:
        assert path is None  # the folder is there, no Prometheus of ours runs
    (tmp_path / "prometheus" / "pid").write_text(str(os.getpid()))  # "ours runs"
    dead = targets / "lab-serve-127.0.0.1-9-999999999.json"  # a SIGKILLed server's file
    dead.write_text("[]")
    with registered_target("lab-serve", "127.0.0.1:8000", {"workers": "2"}, tmp_path) as path:
        assert path is not None and not dead.exists()
        assert json.loads(path.read_text()) == [
            {"targets": ["127.0.0.1:8000"], "labels": {"service": "lab-serve", "workers": "2"}}
        ]
    assert list(targets.iterdir()) == []
