"""Other load generators run beside ours in the same experiment: wrk, Locust and vegeta.

Each runs as a child process; its CPU time is read from the kernel's accounting of
waited-for children, so every tool is charged the same way.
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from lab.errors import ServiceUnavailableError

__all__ = [
    "PeerResult", "locust_available", "parse_vegeta", "parse_wrk", "run_locust", "run_vegeta",
    "run_wrk", "vegeta_path",
]  # fmt: skip


@dataclass(frozen=True)
class PeerResult:
    tool: str
    requests: int
    errors: int
    achieved_rps: float
    latency_ms_p50: float
    latency_ms_p99: float
    cpu_s: float
    latency_ms_p95: float = float("nan")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_measured(argv: list[str], timeout: float) -> tuple[str, float]:
    before = _children_cpu_s()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    cpu = _children_cpu_s() - before
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-2:]
        raise ServiceUnavailableError(
            Path(argv[0]).name, f"exited {done.returncode}: {' '.join(tail)}", "check its output"
        )
    return done.stdout, cpu


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_WRK_PCT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_WRK_REQS = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m),", re.M)
_WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def parse_wrk(output: str, cpu_s: float = float("nan")) -> PeerResult:
    """``wrk --latency`` output -> rate, p50/p99, requests and socket errors."""
    percentiles = {int(p): float(v) * _UNITS_MS[u] for p, v, u in _WRK_PCT.findall(output)}
    requests, rate = _WRK_REQS.search(output), _WRK_RATE.search(output)
    if requests is None or rate is None or set(percentiles) != {50, 99}:
        raise ValueError(f"unrecognised wrk output: {output[-300:]!r}")
    errors = (
        sum(int(n) for n in _WRK_ERRORS.findall(output)[0]) if _WRK_ERRORS.search(output) else 0
    )
    non2xx = _WRK_NON2XX.search(output)
    errors += int(non2xx.group(1)) if non2xx else 0
    return PeerResult(
        "wrk", int(requests.group(1)), errors, float(rate.group(1)),
        percentiles[50], percentiles[99], cpu_s,
    )  # fmt: skip


def run_wrk(url: str, *, connections: int, duration_s: float, threads: int = 1) -> PeerResult:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise ServiceUnavailableError("wrk", "not installed", "install wrk (Debian package)")
    out, cpu = _run_measured(
        [wrk, "--latency", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
         "--timeout", "10s", url],
        timeout=duration_s + 60,
    )  # fmt: skip
    return parse_wrk(out, cpu)


LOCUSTFILE = textwrap.dedent(
    """
    from locust import constant, task
    from locust.contrib.fasthttp import FastHttpUser

    class LabUser(FastHttpUser):
        wait_time = constant({think_s})

        @task
        def get(self):
            self.client.get("{path}")
    """
)


def locust_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("locust") is not None


def run_locust(
    host: str, path: str, *, users: int, duration_s: float, think_s: float = 0.0
) -> PeerResult:
    """Locust FastHttpUser, headless, ``users`` spawned at once, for ``duration_s``."""
    if not locust_available():
        raise ServiceUnavailableError("locust", "not installed", "pip install 'perflab[peers]'")
    with tempfile.TemporaryDirectory() as folder:
        locustfile = Path(folder) / "locustfile.py"
        locustfile.write_text(LOCUSTFILE.format(think_s=think_s, path=path))
        prefix = Path(folder) / "run"
        _, cpu = _run_measured(
            [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
             "-u", str(users), "-r", str(users), "-t", f"{max(1, round(duration_s))}s",
             "--host", host, "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR",
             "--exit-code-on-error", "0"],
            timeout=duration_s + 120,
        )  # fmt: skip
        with open(f"{prefix}_stats.csv", newline="") as stats:
            total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    return PeerResult(
        "locust FastHttpUser", int(total["Request Count"]), int(total["Failure Count"]),
        float(total["Requests/s"]), float(total["50%"]), float(total["99%"]), cpu,
        float(total["95%"]),
    )  # fmt: skip


def vegeta_path() -> str | None:
    """vegeta on PATH, or where ``go install`` put it (``make tools`` does)."""
    found = shutil.which("vegeta")
    if found:
        return found
    gopath = Path(os.environ.get("GOPATH") or Path.home() / "go")
    built = gopath / "bin" / "vegeta"
    return str(built) if built.is_file() else None


def parse_vegeta(report: str, cpu_s: float = float("nan")) -> PeerResult:
    """``vegeta report -type=json`` -> counts, rate and percentiles (it gives nanoseconds)."""
    try:
        data = json.loads(report)
        latencies = data["latencies"]
        requests = int(data["requests"])
        ok = round(float(data["success"]) * requests)
        return PeerResult(
            "vegeta", requests, requests - ok, float(data["throughput"]),
            latencies["50th"] / 1e6, latencies["99th"] / 1e6, cpu_s, latencies["95th"] / 1e6,
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"unrecognised vegeta report ({error}): {report[-300:]!r}") from None


def run_vegeta(url: str, *, rate: float, duration_s: float, timeout_s: float = 10.0
               ) -> PeerResult:  # fmt: skip
    """``vegeta attack`` at a constant ``rate`` (open loop: it adds workers as needed, so
    requests leave on schedule); only the attack's CPU is charged, not the report's."""
    vegeta = vegeta_path()
    if vegeta is None:
        raise ServiceUnavailableError(
            "vegeta", "not installed",
            "go install github.com/tsenart/vegeta/v12@v12.13.0 (make tools does)",
        )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        targets, results = Path(folder) / "targets", Path(folder) / "results.bin"
        targets.write_text(f"GET {url}\n")
        _, cpu = _run_measured(
            [vegeta, "attack", f"-rate={rate:g}/1s", f"-duration={duration_s:g}s",
             f"-timeout={timeout_s:g}s", f"-targets={targets}", f"-output={results}"],
            timeout=duration_s + 60,
        )  # fmt: skip
        report = subprocess.run([vegeta, "report", "-type=json", str(results)],
                                capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    return parse_vegeta(report.stdout, cpu)
