"""Prometheus from Debian's ``prometheus`` package, with a generated configuration.

It scrapes itself, and every target the lab registers while it runs (``lab serve``, a
``lab loadtest --metrics-port``): each writes a file into ``<LAB_HOME>/prometheus/
targets/`` (Prometheus' file-based discovery) and removes it when it stops. Scrapes and
rule evaluation run every second, an interval suited to experiments of seconds, not to
production. Rule files in ``<LAB_HOME>/prometheus/rules/`` are loaded too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import yaml

from lab.config import Endpoints, lab_home
from lab.harness.services.installer import ensure_binary
from lab.harness.services.process import ServerProcess

__all__ = [
    "SCRAPE_INTERVAL_S",
    "config_text",
    "instance_of",
    "registered_target",
    "reload",
    "rules_folder",
    "rules_loaded",
    "start_prometheus",
    "targets_folder",
    "wait_until_scraped",
]

SCRAPE_INTERVAL_S = 1
_JOB = re.compile(r"[A-Za-z0-9_-]+")


def targets_folder(home: Path | None = None) -> Path:
    return (home or lab_home()) / "prometheus" / "targets"


def rules_folder(home: Path | None = None) -> Path:
    return (home or lab_home()) / "prometheus" / "rules"


def config_text(ep: Endpoints, home: Path) -> str:
    """The configuration ``lab services up`` starts Prometheus with."""
    interval = f"{SCRAPE_INTERVAL_S}s"
    every = {"scrape_interval": interval, "evaluation_interval": interval,
             "scrape_timeout": interval}  # fmt: skip
    itself = {"job_name": "prometheus", "static_configs": [{"targets": [str(ep.prometheus)]}]}
    discovered = {"files": [str(targets_folder(home) / "*.json")], "refresh_interval": interval}
    config = {
        "global": every,
        "rule_files": [str(rules_folder(home) / "*.yml")],
        "scrape_configs": [itself, {"job_name": "lab", "file_sd_configs": [discovered]}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def start_prometheus(proc: ServerProcess, ep: Endpoints) -> subprocess.Popen[bytes]:
    server = ensure_binary("prometheus", "prometheus", ["prometheus"],
                           "point LAB_PROMETHEUS_URL at a running Prometheus")  # fmt: skip
    home = proc.folder.parent
    for folder in (proc.folder, targets_folder(home), rules_folder(home)):
        folder.mkdir(parents=True, exist_ok=True)
    config = proc.folder / "prometheus.yml"
    config.write_text(config_text(ep, home))
    argv = [
        server,
        f"--config.file={config}",
        f"--storage.tsdb.path={proc.folder / 'data'}",
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address={ep.prometheus}",
        "--web.enable-lifecycle",  # POST /-/reload after a rule file changes
        "--log.level=warn",
    ]
    return proc.spawn(argv)


def _ours_running(folder: Path) -> bool:
    """A Prometheus that ``lab services up`` started from ``folder`` runs now (natively,
    or with Docker): only that one reads this targets folder."""
    return ServerProcess("prometheus", folder.parent).pid() is not None or (
        folder / "started-by-docker").exists()  # fmt: skip


def _forget_the_dead(folder: Path) -> None:
    """Remove the files of processes that died without removing their own (SIGKILL)."""
    for path in folder.glob("*.json"):
        pid = path.stem.rpartition("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


@contextmanager
def registered_target(job: str, address: str, labels: Mapping[str, str] | None = None,
                      home: Path | None = None) -> Iterator[Path | None]:  # fmt: skip
    """Prometheus scrapes ``address`` (``host:port``, ``/metrics``) as ``service=job``
    while the block runs: a file in the targets folder, written whole, removed at the
    end. Nothing is written (None) unless a Prometheus that ``lab services up`` started
    under this ``LAB_HOME`` runs; an external one has its own scrape configuration."""
    if not _JOB.fullmatch(job):
        raise ValueError(f"a job name is letters, digits, _ and -, not {job!r}")
    folder = targets_folder(home)
    if not folder.is_dir() or not _ours_running(folder.parent):
        yield None
        return
    _forget_the_dead(folder)
    path = folder / f"{job}-{address.replace(':', '-')}-{os.getpid()}.json"
    partial = path.with_suffix(".partial")
    group = {"targets": [address], "labels": {"service": job, **(labels or {})}}
    partial.write_text(json.dumps([group]))
    partial.replace(path)  # Prometheus never reads half a file
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _target_up(prometheus: str, instance: str) -> bool:
    with urllib.request.urlopen(f"{prometheus}/api/v1/targets?state=active", timeout=2) as got:
        targets = json.load(got)["data"]["activeTargets"]
    return any(t["labels"].get("instance") == instance and t["health"] == "up" for t in targets)


def wait_until_scraped(prometheus: str, instance: str, within_s: float = 10.0) -> bool:
    """Whether the Prometheus at ``prometheus`` scraped ``instance`` (``host:port``)
    successfully within ``within_s`` (discovery and the first scrape take a second or
    two): run before load whose figures need Prometheus' view of it from the start."""
    deadline = time.monotonic() + within_s
    try:
        while not _target_up(prometheus, instance):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
    except (OSError, ValueError, KeyError):
        return False
    return True


def instance_of(url: str) -> str:
    """``http://127.0.0.1:8000/`` -> ``127.0.0.1:8000``: the ``instance`` label Prometheus
    gives a target registered here."""
    return url.removeprefix("http://").rstrip("/")


def reload(url: str) -> bool:
    """Ask the Prometheus at ``url`` to re-read its configuration and rule files."""
    request = urllib.request.Request(f"{url}/-/reload", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def rules_loaded(name: str, rules: Mapping[str, object], url: str,
                 home: Path | None = None) -> Iterator[Path | None]:  # fmt: skip
    """``rules`` (a rule file's content) loaded into the Prometheus at ``url`` while the
    block runs, as ``<rules folder>/<name>.yml``; None (nothing loaded) unless a Prometheus
    that ``lab services up`` started under this ``LAB_HOME`` runs."""
    folder = rules_folder(home)
    if not folder.is_dir() or not _ours_running(folder.parent):
        yield None
        return
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(dict(rules), allow_unicode=True, sort_keys=False))
    reload(url)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
        reload(url)
