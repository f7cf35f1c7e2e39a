"""Kill the processor mid-stream and count what it handled, by key.

A topic is fed ``total`` keyed messages in bursts while a worker process
(:mod:`lab.experiments.messaging.worker`) consumes it; the worker is killed with SIGKILL
``crashes`` times, each time after it has handled another ``between`` messages, and
started again, the way a supervisor restarts a pod: with the same static group
membership id (KIP-345), so the new process takes over the dead one's partitions at
once instead of after its session timeout (10 s, each crash). At the end one worker
runs until its group has committed the end of every partition (lag 0), and stops
cleanly. The worker writes a line per handled message before its handler returns, so
the file is the ground truth: a key missing from it once
the group has caught up is a lost message, counted (not a timeout); a key twice is a
duplicate (allowed by at-least-once, and bounded by what was handled but not committed
when the worker died).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from lab.experiments.messaging.worker import start_worker

__all__ = ["crash_run", "handled_keys", "handled_lines", "until"]


def handled_lines(out: Path) -> list[list[str]]:
    """``[partition, offset, key, unix time]`` per handled line (complete lines only)."""
    if not out.exists():
        return []
    return [line.split() for line in out.read_text().splitlines() if line.count(" ") == 3]


def handled_keys(out: Path) -> list[str]:
    return [key for _, _, key, _ in handled_lines(out)]


def _at_least(out: Path, lines: int) -> bool:
    return len(handled_keys(out)) >= lines


async def until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``condition`` (a file filling up, say) until it holds; TimeoutError after."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


async def group_lag(bootstrap: str, topic: str, group: str) -> int:
    """Messages in ``topic`` past what ``group`` has committed, over all partitions (a
    partition with no commit counts from its start)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        (described,) = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        starts = await reader.beginning_offsets(partitions)
        ends = await reader.end_offsets(partitions)
        done = {p: (committed[p].offset if p in committed else -1) for p in partitions}
        return sum(ends[p] - max(done[p], starts[p]) for p in partitions)
    finally:
        await reader.stop()
        await admin.close()


async def _caught_up(bootstrap: str, topic: str, group: str, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if await group_lag(bootstrap, topic, group) == 0:
                return
            await asyncio.sleep(0.2)


async def crash_run(
    bootstrap: str,
    topic: str,
    folder: Path,
    *,
    total: int = 10_000,
    crashes: int = 3,
    between: int = 1_000,
    burst: int = 1_000,
    slow_ms: float = 2.0,
) -> dict[str, float]:
    """Returns messages, crashes, lost, duplicates and the seconds it took."""
    out = folder / f"{topic}.handled"
    group = f"crash-{topic}"
    began = time.monotonic()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()

    async def feed() -> None:
        for start in range(0, total, burst):
            sent = [
                await producer.send(topic, orjson.dumps({"n": n}), key=str(n).encode())
                for n in range(start, min(total, start + burst))
            ]
            await asyncio.gather(*sent)
            await asyncio.sleep(0.2)

    try:
        feeding = asyncio.create_task(feed())
        for _ in range(crashes):
            worker = start_worker(bootstrap, topic, group, out, slow_ms=slow_ms,
                                  instance_id=f"{group}-worker")  # fmt: skip
            await until(partial(_at_least, out, len(handled_keys(out)) + between), 120)
            worker.send_signal(signal.SIGKILL)
            worker.communicate()
        await feeding
        worker = start_worker(bootstrap, topic, group, out, instance_id=f"{group}-worker")
        await _caught_up(bootstrap, topic, group, 180)
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    finally:
        await producer.stop()
    counts = Counter(handled_keys(out))
    expected = {str(n) for n in range(total)}
    return {
        "messages": total,
        "crashes": crashes,
        "lost": len(expected - set(counts)),
        "duplicates": sum(counts.values()) - len(counts),
        "unexpected": len(set(counts) - expected),
        "seconds": time.monotonic() - began,
        "clean_exit": float(worker.returncode == 0),
    }
