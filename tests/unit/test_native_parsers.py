from __future__ import annotations

import pytest

from lab.harness.native import parse_pgbench, parse_producer_perf, parse_redis_benchmark

REDIS_CSV = """"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","19607.84","0.060","0.016","0.055","0.111","0.311","1.599"
"GET","17497.81","0.066","0.016","0.063","0.135","0.239","0.927"
"""

PGBENCH = """pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 1
query mode: prepared
number of clients: 32
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 80698
number of failed transactions: 0 (0.000%)
latency average = 0.388 ms
initial connection time = 21.5 ms
tps = 82443.493648 (without initial connection time)
"""

PRODUCER = """2500 records sent, 499.9 records/sec (0.05 MB/sec), 12.1 ms avg latency, 300.0 ms max latency.
50000 records sent, 53022.269353 records/sec (5.06 MB/sec), 120.32 ms avg latency, 301.00 ms max latency, 129 ms 50th, 150 ms 95th, 163 ms 99th, 170 ms 99.9th.
"""


def test_redis_benchmark_csv() -> None:
    rows = parse_redis_benchmark(REDIS_CSV)
    assert rows["GET"]["rps"] == 17497.81
    assert rows["SET"]["p99_latency_ms"] == 0.311


def test_pgbench_summary() -> None:
    assert parse_pgbench(PGBENCH) == (80698, 82443.493648, 0.388)


def test_pgbench_garbage_is_an_error() -> None:
    with pytest.raises(ValueError, match="unrecognised pgbench"):
        parse_pgbench("FATAL: role does not exist")


def test_producer_performance_takes_the_final_line() -> None:
    result = parse_producer_perf(PRODUCER)
    assert (result.ops, result.throughput_ops_s) == (50000, 53022.269353)
    assert (result.latency_ms_p50, result.latency_ms_p99, result.latency_ms_mean) == (
        129.0, 163.0, 120.32,
    )  # fmt: skip
