"""Run experiments into the result store, each timed, one failing for a missing server
recorded (with why) while the others go on; and how long each is expected to take."""

from __future__ import annotations

import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.errors import ConfigError, LabError
from lab.experiments import EXPERIMENTS, resolve_names
from lab.harness.aio import loop_name
from lab.harness.machine import machine_facts
from lab.harness.results import Run, git_commit, git_short_sha, new_run, stored_runs
from lab.harness.services import status

__all__ = ["estimate_seconds", "resolve_names", "run_suite"]

#: What each experiment took here before a results folder has runs of its own (seconds;
#: quick, full): the quick run of `make lab` in a fresh clone of `03ab48c` (run
#: `20261201T212127Z-03ab48c`, a slow hour: 14.5 min in all) and the full reference run
#: (`reference/meta.json`, 2026-11-29).
FIRST_ESTIMATE_S = {
    "service": (163, 1456), "baseline": (42, 195), "loadgen": (93, 317),
    "caching": (176, 293), "cdn": (46, 445), "database": (70, 329),
    "load_control": (130, 368), "messaging": (87, 459), "resilience": (64, 178),
}  # fmt: skip


def estimate_seconds(name: str, *, quick: bool, results_root: Path, repeats: int | None = None,
                     changes: Mapping[str, Any] | None = None) -> float:  # fmt: skip
    """How long ``name`` took in the newest stored run of the same kind: the same
    ``quick``, ``repeats`` and changed settings of ``name`` (a run of one part, or of one
    repeat, says little about the whole). Else :data:`FIRST_ESTIMATE_S`, times the
    repeats asked for over the settings' own."""
    for run in stored_runs(results_root):
        meta = run.meta()
        took = meta.get("durations_s", {}).get(name)
        skipped = name in meta.get("skipped", {})
        same = (meta.get("quick") == quick and meta.get("repeats") == repeats
                and (meta.get("changes") or {}).get(name, {}) == dict(changes or {}))  # fmt: skip
        if same and took is not None and not skipped:
            return float(took)
    first = float(FIRST_ESTIMATE_S.get(name, (60, 300))[0 if quick else 1])
    if repeats is None or name not in EXPERIMENTS:
        return first
    own = getattr(EXPERIMENTS[name].default_settings(quick=quick), "repeats", None)
    return first * repeats / own if isinstance(own, int) and own > 0 else first


def _servers(names: list[str]) -> dict[str, dict[str, Any]]:
    needed = sorted({s for name in names for s in EXPERIMENTS[name].services})
    return {
        row.service: {
            "endpoint": row.endpoint,
            "version": row.version,
            "started_by": row.started_by,
        }
        for row in status(needed)
    }


def parse_changes(given: Sequence[str], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["baseline.duration_s=0.2", "caching.skews=[1.0]"]`` -> ``{"baseline":
    {"duration_s": 0.2}, "caching": {"skews": [1.0]}}``; values are YAML (numbers, lists,
    true/false, text). Each experiment must be in the run and each setting its own."""
    import yaml

    found: dict[str, dict[str, Any]] = {}
    for item in given:
        target, sep, text = item.partition("=")
        name, dot, setting = target.partition(".")
        if not sep or not dot or not setting:
            raise ConfigError(f"--set {item!r} is not EXPERIMENT.SETTING=VALUE, such as "
                              "baseline.duration_s=0.2")  # fmt: skip
        if name not in names:
            raise ConfigError(f"--set {item!r}: {name!r} is not in this run "
                              f"({', '.join(names)})")  # fmt: skip
        known = EXPERIMENTS[name].setting_names()
        if setting not in known:
            raise ConfigError(f"--set {item!r}: {name} has no setting {setting!r}; its "
                              f"settings: {', '.join(known)}")  # fmt: skip
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f"--set {item!r}: {text!r} is not a value") from None
        found.setdefault(name, {})[setting] = value
    return found


def run_suite(
    names: Sequence[str],
    *,
    quick: bool,
    results_root: Path,
    repeats: int | None = None,
    changes: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[str], None] = lambda _: None,
    on_done: Callable[[str, float, str | None], None] = lambda name, seconds, error: None,
) -> Run:
    """Run each experiment and store its frame as soon as it finishes. One that raises a
    LabError (a server down, a tool missing) is recorded under ``skipped`` with the error,
    and the suite goes on; ``on_done(name, seconds, error)`` follows each. Ctrl-C stops it
    and returns the run so far, its ``meta.json`` naming the experiment ``interrupted``."""
    chosen = resolve_names(names)
    run = new_run(results_root)
    meta: dict[str, Any] = {
        "command": shlex.join(["lab", *sys.argv[1:]]) if sys.argv else "lab run",
        "experiments": chosen,
        "quick": quick,
        "repeats": repeats,
        "changes": changes or {},
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_sha": git_short_sha(),
        "git_sha_full": git_commit(),
        "event_loop": loop_name(),
        "machine": machine_facts(),
        "servers": _servers(chosen),
        "finished": [],
        "skipped": {},
        "durations_s": {},
    }
    run.write_meta(meta)
    with _ctrl_c_interrupts():
        _run_each(chosen, run, meta, quick=quick, repeats=repeats, changes=changes or {},
                  progress=progress, on_done=on_done)  # fmt: skip
    return run


@contextmanager
def _ctrl_c_interrupts() -> Iterator[None]:
    """Ctrl-C (and SIGTERM, as a CI job's timeout or ``kill`` sends it) raises
    KeyboardInterrupt wherever the suite is, event loops included. asyncio.Runner's own
    handler only cancels the running task, and a part that ends cleanly on cancellation
    (a load run returns what it measured) would let the suite go on; with a handler of
    our own in place, the Runner installs none. SIGTERM's default ended the process
    without its ``finally`` blocks: the servers an experiment had started (``lab serve``,
    simulated servers) kept running, holding their ports and Kafka partitions."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise_interrupt)
                for signum in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run_each(chosen: list[str], run: Run, meta: dict[str, Any], *, quick: bool,
              repeats: int | None, changes: dict[str, dict[str, Any]],
              progress: Callable[[str], None],
              on_done: Callable[[str, float, str | None], None]) -> None:  # fmt: skip
    for name in chosen:
        started = time.perf_counter()
        error = None
        try:
            frame = EXPERIMENTS[name].run(quick=quick, progress=progress, repeats=repeats,
                                          changes=changes.get(name))  # fmt: skip
        except LabError as failed:
            error = str(failed)
            meta["skipped"][name] = error
        except KeyboardInterrupt:  # Ctrl-C: keep what finished, say where it stopped
            meta["interrupted"] = name
            meta["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
            run.write_meta(meta)
            return
        else:
            run.write_frame(name, frame)
            meta["finished"].append(name)
        took = time.perf_counter() - started
        meta["durations_s"][name] = round(took, 1)
        meta["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        run.write_meta(meta)
        on_done(name, took, error)
