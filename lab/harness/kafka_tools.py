"""Kafka's own perf tools (``org.apache.kafka.tools``), the ceiling for aiokafka.

``ProducerPerformance`` sends one random A-Z payload of ``--record-size`` bytes with a
null key, again and again; ``ConsumerPerformance`` reads ``--messages`` records and
reports ``fetch.nMsg.sec``, the rate after the group join, with ``check.crcs=false``. The
Python side of each comparison uses the same payload, acks, batching and compression.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from lab.errors import ServiceUnavailableError
from lab.harness.native import NativeResult, parse_producer_perf

__all__ = ["consumer_perf", "parse_consumer_perf", "producer_perf"]


def _java(java: str, classpath: str, tool: str, args: list[str], timeout: float) -> str:
    argv = [java, "-Xmx512m", "-cp", classpath, f"org.apache.kafka.tools.{tool}", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-2:]
        raise ServiceUnavailableError(tool, f"exited {done.returncode}: {' '.join(tail)}")
    return done.stdout


def producer_perf(
    java: str,
    classpath: str,
    bootstrap: str,
    topic: str,
    *,
    records: int,
    record_size: int,
    props: dict[str, str],
) -> NativeResult:
    """``ProducerPerformance`` at full speed with producer ``props`` (acks, batch.size,
    linger.ms, compression.type)."""
    settings = [f"{name}={value}" for name, value in props.items()]
    out = _java(
        java,
        classpath,
        "ProducerPerformance",
        [
            "--topic",
            topic,
            "--num-records",
            str(records),
            "--record-size",
            str(record_size),
            "--throughput",
            "-1",
            "--producer-props",
            f"bootstrap.servers={bootstrap}",
            *settings,
        ],
        timeout=600,
    )
    return parse_producer_perf(out)


def parse_consumer_perf(output: str) -> dict[str, float]:
    """The CSV header and its one line of numbers, as floats by column name."""
    lines = [line for line in output.splitlines() if line.strip()]
    header = next((i for i, line in enumerate(lines) if "fetch.nMsg.sec" in line), None)
    if header is None or header + 1 >= len(lines):
        raise ValueError(f"unrecognised ConsumerPerformance output: {output[-300:]!r}")
    names, values = lines[header].split(","), lines[header + 1].split(",")
    found = {}
    for name, value in zip(names, values, strict=False):
        try:
            found[name.strip()] = float(value)
        except ValueError:
            continue  # the start and end times
    return found


def consumer_perf(
    java: str,
    classpath: str,
    bootstrap: str,
    topic: str,
    *,
    messages: int,
    fetch_size: int = 1_048_576,
) -> NativeResult:
    """``ConsumerPerformance`` reading ``messages`` from the start of ``topic`` in a fresh
    group; the throughput is ``fetch.nMsg.sec`` (after the group join)."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "consumer.properties"
        config.write_text("auto.offset.reset=earliest\n")
        out = _java(
            java,
            classpath,
            "ConsumerPerformance",
            [
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topic,
                "--messages",
                str(messages),
                "--fetch-size",
                str(fetch_size),
                "--timeout",
                "60000",
                "--consumer.config",
                str(config),
            ],
            timeout=300,
        )
    numbers = parse_consumer_perf(out)
    return NativeResult(
        "kafka ConsumerPerformance",
        "consume",
        int(numbers.get("data.consumed.in.nMsg", messages)),
        numbers["fetch.nMsg.sec"],
    )
