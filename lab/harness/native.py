"""The servers' own benchmark tools, run as the native ceiling beside a Python measurement.

Each function runs one tool once and returns what it printed, parsed into numbers.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lab.errors import ServiceUnavailableError

__all__ = [
    "NativeResult",
    "parse_pgbench",
    "parse_producer_perf",
    "parse_redis_benchmark",
    "pgbench",
    "pgbench_init",
    "redis_benchmark",
]


@dataclass(frozen=True)
class NativeResult:
    tool: str
    operation: str
    ops: int
    throughput_ops_s: float
    latency_ms_p50: float = float("nan")
    latency_ms_p99: float = float("nan")
    latency_ms_mean: float = float("nan")


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ServiceUnavailableError(name, "the tool is not installed", f"install {package}")
    return found


def _run(argv: list[str], timeout: float) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-2:]
        raise ServiceUnavailableError(
            Path(argv[0]).name, f"exited {done.returncode}: {' '.join(tail)}"
        )
    return done.stdout


def parse_redis_benchmark(output: str) -> dict[str, dict[str, float]]:
    """``redis-benchmark --csv`` -> {"GET": {"rps": ..., "p50_latency_ms": ...}, ...}."""
    rows = csv.DictReader(io.StringIO(output.strip()))
    return {row["test"]: {k: float(v) for k, v in row.items() if k != "test"} for row in rows}


def redis_benchmark(
    host: str, port: int, operation: str, clients: int, requests: int
) -> NativeResult:
    tool = _tool("redis-benchmark", "redis-tools")
    out = _run(
        [tool, "-h", host, "-p", str(port), "-t", operation.lower(), "-c", str(clients),
         "-n", str(requests), "-P", "1", "-d", "16", "--csv"],
        timeout=120,
    )  # fmt: skip
    row = parse_redis_benchmark(out)[operation.upper()]
    return NativeResult(
        "redis-benchmark", operation, requests, row["rps"],
        row.get("p50_latency_ms", float("nan")), row.get("p99_latency_ms", float("nan")),
        row.get("avg_latency_ms", float("nan")),
    )  # fmt: skip


_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.M)
_LAT = re.compile(r"^latency average = ([\d.]+) ms", re.M)
_TX = re.compile(r"^number of transactions actually processed: (\d+)", re.M)


def parse_pgbench(output: str) -> tuple[int, float, float]:
    """pgbench's summary -> (transactions, tps, mean latency in ms)."""
    tps, lat, tx = _TPS.search(output), _LAT.search(output), _TX.search(output)
    if not (tps and lat and tx):
        raise ValueError(f"unrecognised pgbench output: {output[-300:]!r}")
    return int(tx.group(1)), float(tps.group(1)), float(lat.group(1))


def _pg_conn_args(host: str, port: int, user: str, database: str) -> list[str]:
    return ["-h", host, "-p", str(port), "-U", user, database]


def pgbench_init(host: str, port: int, user: str, database: str, scale: int = 1) -> None:
    """Create pgbench's tables (``pgbench_accounts`` holds 100,000 rows per scale unit)."""
    tool = _tool("pgbench", "postgresql-contrib")
    _run([tool, "-i", "-q", "-s", str(scale), *_pg_conn_args(host, port, user, database)], 300)


def pgbench(
    host: str,
    port: int,
    user: str,
    database: str,
    *,
    script: str,
    clients: int,
    seconds: int,
    protocol: str = "prepared",
) -> NativeResult:
    """``script``: "select-only" (the built-in PK lookup) or a line of SQL; ``protocol``:
    pgbench's ``-M`` (simple, extended or prepared)."""
    tool = _tool("pgbench", "postgresql-contrib")
    jobs = str(min(clients, 2))
    common = ["-n", "-M", protocol, "-c", str(clients), "-j", jobs, "-T", str(seconds)]
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as custom:
        if script == "select-only":
            which = ["-S"]
        else:
            custom.write(script + "\n")
            custom.flush()
            which = ["-f", custom.name]
        out = _run(
            [tool, *common, *which, *_pg_conn_args(host, port, user, database)], seconds + 60
        )
    tx, tps, lat = parse_pgbench(out)
    return NativeResult("pgbench", script, tx, tps, latency_ms_mean=lat)


_PP = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec .*?([\d.]+) ms avg latency.*?"
    r"(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th"
)


def parse_producer_perf(output: str) -> NativeResult:
    matches = list(_PP.finditer(output))
    if not matches:
        raise ValueError(f"unrecognised ProducerPerformance output: {output[-300:]!r}")
    sent, rate, avg, p50, _p95, p99 = matches[-1].groups()
    return NativeResult(
        "kafka ProducerPerformance", "produce", int(sent), float(rate),
        float(p50), float(p99), float(avg),
    )  # fmt: skip
