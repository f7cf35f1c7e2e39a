"""Load generators compared on the same simulated server, in one run.

Three questions:

* accuracy: against a fixed 20 ms server well below saturation, does the open-loop
  generator report 20 ms and hold its rate?
* stall: with a stall in the server, what does each tool report? The open loop
  measures from intended send times and shows the stall; closed loops send less during
  it and hide most of it (coordinated omission).
* saturation: against one server process, how close does each tool get to ``wrk``'s
  rate, and how much CPU does it spend per 1,000 requests?
* tls: at the same rate, how much more CPU per request does the generator spend over
  https than over plain http (keep-alive: one handshake per connection)?

vegeta, an independent open-loop generator, runs beside the lab's in the accuracy and
stall scenarios at the same rate, so its percentiles and CPU are the reference.

The server always runs in a process of its own, so each tool's CPU is its own.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.harness.aio import new_runner, outside_event_loop
from lab.harness.loadgen import LoadResult, LoadSettings, Schedule, run_load
from lab.harness.loadgen.peers import (
    PeerResult,
    locust_available,
    run_locust,
    run_vegeta,
    run_wrk,
    vegeta_path,
)
from lab.harness.simulate import ServerModel, server_process, throwaway_certificate

__all__ = ["LoadgenSettings", "quick_settings", "run"]


@dataclass(frozen=True)
class LoadgenSettings:
    repeats: int = 3
    accuracy_rps: float = 200.0
    accuracy_s: float = 10.0
    service_s: float = 0.020
    stall_rps: float = 200.0
    stall_every_s: float = 5.0
    stall_for_s: float = 1.0
    stall_run_s: float = 11.0
    stall_users: int = 20  # the seed's closed model: 20 users thinking 100 ms
    stall_think_s: float = 0.1
    saturation_s: float = 5.0
    saturation_connections: int = 64
    tls_rps: float = 1000.0
    tls_s: float = 5.0
    tools: tuple[str, ...] = ("lab-open", "lab-closed", "vegeta", "wrk", "locust")

    @classmethod
    def quick(cls) -> LoadgenSettings:
        return cls(
            repeats=2, accuracy_s=3.0, stall_every_s=2.0, stall_for_s=0.5, stall_run_s=3.0,
            saturation_s=2.0, tls_s=2.0,
        )  # fmt: skip


def _lab_row(scenario: str, tool: str, repeat: int, settings: LoadSettings) -> Row:
    with new_runner() as runner:
        began = time.process_time()
        result: LoadResult = runner.run(run_load(settings))
        cpu = time.process_time() - began
    latency = result.latency_ms()
    target = settings.schedule.expected_arrivals() / settings.schedule.duration_s if (
        settings.schedule) else float("nan")  # fmt: skip
    return {
        "scenario": scenario, "tool": tool, "repeat": repeat, "target_rps": target,
        "achieved_rps": result.achieved_rps, "requests": result.requests,
        "errors": result.errors, "dropped": result.dropped,
        "latency_ms_p50": latency["p50"], "latency_ms_p95": latency["p95"],
        "latency_ms_p99": latency["p99"], "latency_ms_max": latency["max"], "cpu_s": cpu,
    }  # fmt: skip


def _peer_row(scenario: str, repeat: int, found: PeerResult) -> Row:
    return {
        "scenario": scenario, "tool": found.tool, "repeat": repeat, "target_rps": float("nan"),
        "achieved_rps": found.achieved_rps, "requests": found.requests,
        "errors": found.errors, "dropped": 0, "latency_ms_p50": found.latency_ms_p50,
        "latency_ms_p95": found.latency_ms_p95, "latency_ms_p99": found.latency_ms_p99,
        "latency_ms_max": float("nan"),
        "cpu_s": found.cpu_s,
    }  # fmt: skip


def _accuracy(s: LoadgenSettings, repeat: int) -> list[Row]:
    tools: dict[str, Callable[[str], Row]] = {
        "lab-open": lambda url: _lab_row("accuracy", "lab-open", repeat, LoadSettings(
            url, schedule=Schedule.constant(s.accuracy_rps, s.accuracy_s))),
        "vegeta": lambda url: _peer_row("accuracy", repeat, run_vegeta(
            url, rate=s.accuracy_rps, duration_s=s.accuracy_s)),
    }  # fmt: skip
    rows = []
    for tool in _in_turn([t for t in _available(s.tools) if t in tools], repeat):
        with server_process(ServerModel(service_s=s.service_s)) as url:
            rows.append(tools[tool](url))
    return rows


def _stall(s: LoadgenSettings, repeat: int) -> list[Row]:
    model = ServerModel(
        service_s=s.service_s, stall_every_s=s.stall_every_s, stall_for_s=s.stall_for_s
    )
    rows = []
    tools: dict[str, Callable[[str], Row]] = {
        "lab-open": lambda url: _lab_row("stall", "lab-open", repeat, LoadSettings(
            url, schedule=Schedule.constant(s.stall_rps, s.stall_run_s))),
        "lab-closed": lambda url: _lab_row("stall", "lab-closed", repeat, LoadSettings(
            url, mode="closed", users=s.stall_users, think_time_s=s.stall_think_s,
            duration_s=s.stall_run_s)),
        "vegeta": lambda url: _peer_row("stall", repeat, run_vegeta(
            url, rate=s.stall_rps, duration_s=s.stall_run_s)),
        "wrk": lambda url: _peer_row("stall", repeat, run_wrk(
            url, connections=s.stall_users, duration_s=s.stall_run_s)),
        "locust": lambda url: _peer_row("stall", repeat, run_locust(
            url.rstrip("/"), "/", users=s.stall_users, duration_s=s.stall_run_s,
            think_s=s.stall_think_s)),
    }  # fmt: skip
    for tool in _in_turn(_available(s.tools), repeat):
        # A fresh server per tool, so every tool meets the stall at the same moment.
        with server_process(model) as url:
            rows.append(tools[tool](url))
    return rows


def _saturation(s: LoadgenSettings, repeat: int) -> list[Row]:
    c = s.saturation_connections
    tools: dict[str, Callable[[str], Row]] = {
        "lab-closed": lambda url: _lab_row("saturation", "lab-closed", repeat, LoadSettings(
            url, mode="closed", users=c, duration_s=s.saturation_s)),
        "wrk": lambda url: _peer_row("saturation", repeat, run_wrk(
            url, connections=c, duration_s=s.saturation_s)),
        "locust": lambda url: _peer_row("saturation", repeat, run_locust(
            url.rstrip("/"), "/", users=c, duration_s=s.saturation_s)),
    }  # fmt: skip
    rows = []
    with server_process(ServerModel()) as url:
        # in a different order each repeat, as the other parts: in one order lab's closed
        # loop always ran first, on the server just started (2 s each in a quick run)
        for tool in _in_turn([t for t in _available(s.tools) if t in tools], repeat):
            rows.append(tools[tool](url))
    return rows


def _tls(s: LoadgenSettings, repeat: int) -> list[Row]:
    """lab-open at one rate over http and over https (a throwaway CA's certificate)."""
    with tempfile.TemporaryDirectory(prefix="lab-tls-") as folder:
        ca_file, chain, key = throwaway_certificate(Path(folder))
        schedule = Schedule.constant(s.tls_rps, s.tls_s)
        rows = []
        for scheme in _in_turn(["http", "https"], repeat):
            files = (chain, key) if scheme == "https" else None
            with server_process(ServerModel(), tls_files=files) as url:
                tls = {"ca_file": ca_file} if scheme == "https" else {}
                settings = LoadSettings(url, schedule=schedule, **tls)  # type: ignore[arg-type]
                rows.append(_lab_row("tls", f"lab-open {scheme}", repeat, settings))
    return rows


def _in_turn(tools: list[str], repeat: int) -> list[str]:
    """The tools in a different order each repeat, so none always goes first."""
    shift = repeat % len(tools) if tools else 0
    return tools[shift:] + tools[:shift]


def _available(tools: tuple[str, ...]) -> list[str]:
    """The tools asked for that are installed (wrk, Locust and vegeta are optional peers)."""
    missing = {"locust": not locust_available(), "wrk": shutil.which("wrk") is None,
               "vegeta": vegeta_path() is None}  # fmt: skip
    return [tool for tool in tools if not missing.get(tool, False)]


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: LoadgenSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    s = chosen_settings(LoadgenSettings, settings, quick)
    parts: dict[str, Part[LoadgenSettings]] = {
        "accuracy": _accuracy,
        "stall": _stall,
        "saturation": _saturation,
        "tls": _tls,
    }
    frame = drive("loadgen", s, list(parts), parts, progress)
    frame["cpu_s_per_1000"] = 1000 * frame.cpu_s / frame.requests.clip(lower=1)
    return frame


def quick_settings(**overrides: Any) -> LoadgenSettings:
    return replace(LoadgenSettings.quick(), **overrides)
