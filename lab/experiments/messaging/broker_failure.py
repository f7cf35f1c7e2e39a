"""The messaging experiment's ``broker_failure`` part, on the replicated Kafka profile
(``lab services up --kafka-brokers 3``: 3 nodes, replication factor 3, min ISR 2).

A producer sends numbered messages at a fixed rate to a 6-partition topic while a
``KafkaBatchProcessor`` group consumes it. Part way through, the leader of partition 0 is
SIGKILLed; it is started again ``failure_down_s`` later. Once every acknowledged message is
handled (or ``failure_settle_s`` has passed), the row says: how many messages the producer
was told were written, how many of those were never handled (lost), how many were handled
twice, the longest pause between acknowledgements and between handled messages after the
kill, and the p99 of end-to-end latency (send to handler) of the messages sent in the half
of the run before the kill that follows the group's start, and of those sent after it.

Run once with an idempotent ``acks=all`` producer and once with ``acks=1``: only the first
promises that an acknowledged write survives the leader's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from lab.config import lab_home
from lab.experiments.driver import Row
from lab.experiments.failure_parts import why_not_run
from lab.experiments.messaging.crash import until
from lab.harness.services.kafka_cluster import (
    CLUSTER_BOOTSTRAP_ENV,
    cluster_bootstrap,
    kafka_cluster_health,
    kill_node,
    start_node,
)
from lab.patterns.messaging import KafkaBatchProcessor, Message

if TYPE_CHECKING:
    from lab.experiments.messaging.measure import MessagingSettings

__all__ = ["broker_failure"]

PARTITIONS = 6


def _not_run(repeat: int, why: str) -> Row:
    return {"part": "broker_failure", "repeat": repeat, "acks": "not run", "detail": why}


async def broker_failure(s: MessagingSettings, repeat: int) -> list[Row]:
    """One row per producer setting; one "not run" row when the cluster is not up."""
    bootstrap = cluster_bootstrap()
    why = await why_not_run("3-broker Kafka", CLUSTER_BOOTSTRAP_ENV,
                            lambda: kafka_cluster_health(bootstrap),
                            "lab services up --kafka-brokers 3")  # fmt: skip
    if why:
        return [_not_run(repeat, why)]
    rows = []
    for acks in s.failure_acks:
        rows.append(await _one_failure(s, repeat, bootstrap, acks))
    return rows


@dataclass
class _Ledger:
    """What was sent, acknowledged and handled, with their times (Unix seconds)."""

    acked: dict[int, float] = field(default_factory=dict)
    failed: int = 0
    handled: list[tuple[int, float, float]] = field(default_factory=list)  # n, sent, handled

    def all_handled(self) -> bool:
        return set(self.acked) <= {n for n, _, _ in self.handled}

    def on_ack(self, n: int, done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is not None:
            self.failed += 1
        else:
            self.acked[n] = time.time()


async def _new_topic(bootstrap: str) -> str:
    name = f"lab-failure-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([
            NewTopic(name, PARTITIONS, 3, topic_configs={"min.insync.replicas": "2"}),
            NewTopic(f"{name}.dlq", 1, 3),
        ])  # fmt: skip
    finally:
        await admin.close()
    return name


async def _leader_of_partition_0(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return int(next(p["leader"] for p in described["partitions"] if p["partition"] == 0))
    finally:
        await admin.close()


async def _one_failure(s: MessagingSettings, repeat: int, bootstrap: str, acks: str) -> Row:
    topic = await _new_topic(bootstrap)
    ledger = _Ledger()

    async def handle(message: Message) -> None:
        ledger.handled.append((message.value["n"], message.value["t"], time.time()))

    processor = KafkaBatchProcessor(
        bootstrap, [topic], f"failure-{topic}", handle, concurrency=16,
        commit_interval_s=0.25, consumer_options={"auto_offset_reset": "earliest"},
    )  # fmt: skip
    consuming = asyncio.create_task(processor.run())
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all" if acks == "all" else 1,
        enable_idempotence=acks == "all", linger_ms=5, request_timeout_ms=30_000,
    )  # fmt: skip
    await producer.start()
    victim, killed_at, restarted = 0, float("nan"), False
    try:
        began = time.monotonic()
        for n in range(s.failure_messages):
            due = n / s.failure_rate
            if victim == 0 and due >= s.failure_kill_at_s:
                victim = await _leader_of_partition_0(bootstrap, topic)
                await asyncio.to_thread(kill_node, lab_home(), victim)
                killed_at = time.time()
            if victim and not restarted and time.time() - killed_at >= s.failure_down_s:
                await asyncio.to_thread(start_node, lab_home(), victim)
                restarted = True
            await asyncio.sleep(max(0.0, due - (time.monotonic() - began)))
            sent = await producer.send(topic, orjson.dumps({"n": n, "t": time.time()}),
                                       key=str(n % 1000).encode())  # fmt: skip
            sent.add_done_callback(lambda done, n=n: ledger.on_ack(n, done))
        await producer.flush()
        if victim and not restarted:
            await asyncio.to_thread(start_node, lab_home(), victim)
        with contextlib.suppress(TimeoutError):  # what is still missing then is lost
            await until(ledger.all_handled, s.failure_settle_s)
    finally:
        await producer.stop()
        processor.stop()
        await consuming
    await _until_whole(bootstrap)
    return _summary(s, repeat, acks, ledger, killed_at, victim)


async def _until_whole(bootstrap: str, timeout_s: float = 180.0) -> None:
    """Wait for the restarted broker, so the next run starts from a whole cluster."""
    async with asyncio.timeout(timeout_s):
        while True:
            if (await asyncio.to_thread(kafka_cluster_health, bootstrap)).healthy:
                return
            await asyncio.sleep(1.0)


def _longest_gap_after(times: list[float], start: float) -> float:
    after = sorted(t for t in times if t >= start - 1.0)
    return float(np.diff(after).max()) if len(after) > 1 else float("nan")


def _summary(s: MessagingSettings, repeat: int, acks: str, ledger: _Ledger,
             killed_at: float, victim: int) -> Row:  # fmt: skip
    handled = [n for n, _, _ in ledger.handled]
    unique = set(handled)
    latency = np.array([(done - sent) * 1000 for _, sent, done in ledger.handled])
    sent_at = np.array([sent for _, sent, _ in ledger.handled])
    steady = max(0.0, killed_at - s.failure_kill_at_s / 2)  # the group has joined by then
    before = latency[(sent_at >= steady) & (sent_at < killed_at)]
    after = latency[sent_at >= killed_at]
    return {
        "part": "broker_failure", "repeat": repeat, "acks": acks,
        "messages": s.failure_messages, "acknowledged": len(ledger.acked),
        "send_failed": ledger.failed,
        "lost": len(set(ledger.acked) - unique),
        "handled_unacknowledged": len(unique - set(ledger.acked)),
        "duplicates": len(handled) - len(unique),
        "produce_pause_s": _longest_gap_after(list(ledger.acked.values()), killed_at),
        "consume_pause_s": _longest_gap_after([d for _, _, d in ledger.handled], killed_at),
        "p99_before_ms": float(np.percentile(before, 99)) if len(before) else np.nan,
        "p99_after_kill_ms": float(np.percentile(after, 99)) if len(after) else np.nan,
        "killed_broker": victim, "rate": s.failure_rate,
    }  # fmt: skip
