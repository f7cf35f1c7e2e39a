"""Messaging: how many messages per second Kafka takes from Python, and what the
at-least-once processor does with poison, slow handlers, crashes and more members.

* ``produce``: aiokafka against Kafka's ``ProducerPerformance`` with the same payload
  (one random A-Z record of the given size, null key), acks, batch size, linger and
  compression, alternating which goes first; ratios are taken within a repeat. Kafka's
  tools run over ``native_records`` in a quick run too, so their ceiling is a steady state.
* ``consume``: a topic of 100-byte records read by ``ConsumerPerformance``
  (``fetch.nMsg.sec``), by a bare aiokafka consumer per ``max_records``, and by the
  ``KafkaBatchProcessor`` per handler concurrency (a handler that does nothing).
* ``end_to_end``: a share of poison records, failing handlers and slow handlers; what was
  handled, retried, dead-lettered and duplicated, and the lag over time.
* ``crash``: the worker SIGKILLed mid-stream (:mod:`lab.experiments.messaging.crash`).
* ``scale_out``: 1 to 4 worker processes on an 8-partition topic, I/O-bound handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from lab.config import endpoints
from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.experiments.messaging.broker_failure import broker_failure
from lab.experiments.messaging.crash import crash_run, handled_lines, until
from lab.experiments.messaging.worker import start_worker
from lab.harness import kafka_tools
from lab.harness.aio import outside_event_loop
from lab.harness.latency import LatencyRecorder
from lab.harness.services.kafka_native import kafka_classpath, kafka_java
from lab.patterns.messaging import KafkaBatchProcessor, Message, ProducerSettings, RetryPolicy
from lab.patterns.messaging.processor import Ordering
from lab.patterns.messaging.producer import make_producer

__all__ = [
    "DEFAULT_CASES",
    "PARTS",
    "SERVICES",
    "MessagingSettings",
    "ProducerCase",
    "new_topic",
    "quick_settings",
    "run",
]

SERVICES = ("kafka",)


@dataclass(frozen=True)
class ProducerCase:
    name: str
    record_size: int = 100
    batch_size: int = 16_384
    linger_ms: int = 5
    compression: str = "none"
    acks: int | str = 1

    def settings(self) -> ProducerSettings:
        return ProducerSettings(
            batch_size=self.batch_size,
            linger_ms=self.linger_ms,
            compression=self.compression,
            acks=self.acks,
        )

    def java_props(self) -> dict[str, str]:
        return {
            "acks": str(self.acks),
            "batch.size": str(self.batch_size),
            "linger.ms": str(self.linger_ms),
            "compression.type": self.compression,
        }


DEFAULT_CASES = (
    ProducerCase("100 B, 16 KiB batches, linger 5 ms"),
    ProducerCase("linger 0", linger_ms=0),
    ProducerCase("linger 20 ms", linger_ms=20),
    ProducerCase("64 KiB batches", batch_size=65_536),
    ProducerCase("256 KiB batches", batch_size=262_144),
    ProducerCase("gzip", compression="gzip"),
    ProducerCase("snappy", compression="snappy"),
    ProducerCase("lz4", compression="lz4"),
    ProducerCase("zstd", compression="zstd"),
    ProducerCase("acks=all", acks="all"),
    ProducerCase("1000 B records", record_size=1000),
)


@dataclass(frozen=True)
class MessagingSettings:
    repeats: int = 3
    producer_cases: tuple[ProducerCase, ...] = DEFAULT_CASES
    produce_records: int = 200_000
    consume_records: int = 200_000
    consumer_max_records: tuple[int, ...] = (500, 5_000)
    processor_concurrency: tuple[int, ...] = (1, 8, 32)
    end_to_end_records: int = 5_000
    poison_share: float = 0.01
    failing_share: float = 0.02
    slow_share: float = 0.05
    slow_s: float = 0.02
    crash_records: int = 10_000
    crashes: int = 3
    #: Records each of Kafka's perf tools runs over, quick or full: their JVM speeds up
    #: for about this long (ProducerPerformance: 36k/s over 20k records, 143k/s over
    #: 200k), so a shorter run measures its warm-up and not the ceiling.
    native_records: int = 200_000
    scale_workers: tuple[int, ...] = (1, 2, 3, 4)
    scale_records: int = 16_000
    scale_handler_ms: float = 4.0  # each handler sleeps up to this (I/O-bound)
    failure_messages: int = 100_000  # broker_failure: on the 3-broker profile
    failure_rate: float = 5_000.0
    failure_kill_at_s: float = 5.0
    failure_down_s: float = 10.0  # the killed broker is started again after this
    failure_settle_s: float = 60.0  # at most this long for every acknowledged message
    failure_acks: tuple[str, ...] = ("all", "1")
    parts: tuple[str, ...] = (
        "produce", "consume", "end_to_end", "crash", "scale_out", "broker_failure",
    )  # fmt: skip

    @classmethod
    def quick(cls) -> MessagingSettings:
        return cls(
            repeats=2,
            producer_cases=(
                DEFAULT_CASES[0],
                ProducerCase("64 KiB batches, lz4", batch_size=65_536, compression="lz4"),
            ),
            produce_records=60_000,  # aiokafka: 70k/s over 20k records, 55k/s over 200k
            consume_records=20_000,
            consumer_max_records=(500, 5_000),  # 500: the processor's, the stages' floor
            processor_concurrency=(32,),
            end_to_end_records=1_000,
            crash_records=3_000,
            crashes=1,
            scale_workers=(1, 4),
            scale_records=1_000,
            failure_messages=20_000,
            failure_rate=2_000.0,
            failure_kill_at_s=3.0,
            failure_down_s=5.0,
        )


async def new_topic(bootstrap: str, partitions: int = 1, prefix: str = "lab-msg") -> str:
    """A fresh topic with ``partitions`` and its one-partition ``.dlq`` twin."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1), NewTopic(f"{name}.dlq", 1, 1)])
    finally:
        await admin.close()
    return name


def _payload(size: int, seed: int) -> bytes:
    rng = random.Random(seed)  # as ProducerPerformance: random A-Z, one payload for all
    return bytes(rng.randrange(65, 91) for _ in range(size))


# --- produce --------------------------------------------------------------------------------


async def _aiokafka_produce(bootstrap: str, topic: str, case: ProducerCase, records: int) -> Row:
    producer = make_producer(bootstrap, case.settings())
    await producer.start()
    latency = LatencyRecorder()
    payload = _payload(case.record_size, 1)
    clock = time.perf_counter
    try:
        began = clock()
        pending = []
        for _ in range(records):
            sent = clock()
            ack = await producer.send(topic, payload)
            ack.add_done_callback(lambda _, sent=sent: latency.record_seconds(clock() - sent))
            pending.append(ack)
        await asyncio.gather(*pending)
        elapsed = clock() - began
    finally:
        await producer.stop()
    return {
        "msgs_s": records / elapsed,
        "mb_s": records * case.record_size / elapsed / 2**20,
        "p50_ms": latency.percentile_ms(50),
        "p99_ms": latency.percentile_ms(99),
    }


async def _produce(s: MessagingSettings, repeat: int, bootstrap: str) -> list[Row]:
    rows: list[Row] = []
    for case in s.producer_cases:
        topic = await new_topic(bootstrap)
        order = ("aiokafka", "java") if repeat % 2 == 0 else ("java", "aiokafka")
        found: dict[str, Row] = {}
        for tool in order:
            if tool == "aiokafka":
                found[tool] = await _aiokafka_produce(bootstrap, topic, case, s.produce_records)
            else:
                native = await asyncio.to_thread(
                    kafka_tools.producer_perf,
                    kafka_java(),
                    kafka_classpath(),
                    bootstrap,
                    topic,
                    records=s.native_records,
                    record_size=case.record_size,
                    props=case.java_props(),
                )
                found[tool] = {
                    "msgs_s": native.throughput_ops_s,
                    "mb_s": native.throughput_ops_s * case.record_size / 2**20,
                    "p50_ms": native.latency_ms_p50,
                    "p99_ms": native.latency_ms_p99,
                }
        for tool, row in found.items():
            rows.append(
                {
                    "part": "produce",
                    "repeat": repeat,
                    "case": case.name,
                    "tool": tool,
                    **row,
                    "vs_java": row["msgs_s"] / found["java"]["msgs_s"],
                }
            )
    return rows


# --- consume --------------------------------------------------------------------------------


async def _fill(bootstrap: str, topic: str, records: int, size: int = 100) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=5, max_batch_size=65_536
    )
    await producer.start()
    try:
        payload = _payload(size, 2)
        pending = [await producer.send(topic, payload) for _ in range(records)]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _aiokafka_consume(bootstrap: str, topic: str, records: int, max_records: int) -> float:
    """Messages/s from the first fetch to the last record, no group (as fetch.nMsg.sec,
    which leaves out the group join)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        check_crcs=False,
        max_partition_fetch_bytes=1_048_576,
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        seen, began = 0, time.perf_counter()  # connected and positioned: fetching starts now
        while seen < records:
            batches = await consumer.getmany(timeout_ms=1_000, max_records=max_records)
            seen += sum(len(batch) for batch in batches.values())
        return records / (time.perf_counter() - began)
    finally:
        await consumer.stop()


async def _processor_consume(
    bootstrap: str, topic: str, records: int, concurrency: int, batches: bool = False,
    ordering: Ordering = "none",
) -> float:  # fmt: skip
    """Messages/s through the processor: a handler per message, or (``batches``) a batch
    handler over up to ``batch_size`` messages of a partition per call. Both run at the
    processor's defaults but for concurrency and ordering: ``batch_size`` 500 (records a
    getmany: the floor of the stage table) and ``max_buffered`` 2,000. ``ordering``
    "partition" takes the ordered path (on the one partition here, one message at a time
    in offset order; keyed order takes the same path, a chain per key)."""
    handled, first = 0, 0.0
    finished = asyncio.Event()

    def count(messages: int) -> None:
        nonlocal handled, first
        if not first:
            first = time.perf_counter()
        handled += messages
        if handled >= records:
            finished.set()

    async def handle(message: Message) -> None:
        count(1)

    async def handle_batch(messages: list[Message]) -> None:
        count(len(messages))

    processor = KafkaBatchProcessor(
        bootstrap,
        [topic],
        f"lab-{uuid.uuid4().hex[:8]}",
        None if batches else handle,
        batch_handler=handle_batch if batches else None,
        concurrency=concurrency,
        ordering=ordering,
        value_format="bytes",
        consumer_options={"check_crcs": False},
    )
    task = asyncio.create_task(processor.run())
    try:
        async with asyncio.timeout(300):
            await finished.wait()
        return records / (time.perf_counter() - first)
    finally:
        processor.stop()
        await task


async def _consume(s: MessagingSettings, repeat: int, bootstrap: str) -> list[Row]:
    topic = await new_topic(bootstrap)
    filled = max(s.consume_records, s.native_records)
    fill = {"acks": "1", "linger.ms": "5", "batch.size": "65536"}
    java, classpath = kafka_java(), kafka_classpath()
    await asyncio.to_thread(
        kafka_tools.producer_perf, java, classpath, bootstrap, topic,
        records=filled, record_size=100, props=fill,
    )  # fmt: skip
    native = await asyncio.to_thread(
        kafka_tools.consumer_perf, java, classpath, bootstrap, topic, messages=filled
    )
    ceiling = native.throughput_ops_s
    rates = {"ConsumerPerformance (fetch.nMsg.sec)": ceiling}
    for size in s.consumer_max_records:
        rates[f"aiokafka getmany, max_records={size}"] = await _aiokafka_consume(
            bootstrap, topic, s.consume_records, size
        )
    for concurrency in s.processor_concurrency:
        rates[f"KafkaBatchProcessor, concurrency {concurrency}"] = await _processor_consume(
            bootstrap, topic, s.consume_records, concurrency
        )
    rates["KafkaBatchProcessor, batch handler"] = await _processor_consume(
        bootstrap, topic, s.consume_records, max(s.processor_concurrency), batches=True
    )
    rates["KafkaBatchProcessor, partition order"] = await _processor_consume(
        bootstrap, topic, s.consume_records, max(s.processor_concurrency), ordering="partition"
    )
    return [
        {
            "part": "consume",
            "repeat": repeat,
            "tool": tool,
            "msgs_s": rate,
            "vs_java": rate / ceiling,
        }
        for tool, rate in rates.items()
    ]


# --- end to end -----------------------------------------------------------------------------


async def _end_to_end(s: MessagingSettings, repeat: int, bootstrap: str) -> list[Row]:
    topic = await new_topic(bootstrap, partitions=4)
    rng = random.Random(repeat)
    kinds = rng.choices(
        ["poison", "fails", "slow", "ok"],
        k=s.end_to_end_records,
        weights=[
            s.poison_share,
            s.failing_share,
            s.slow_share,
            1 - s.poison_share - s.failing_share - s.slow_share,
        ],
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = []
        for n, kind in enumerate(kinds):
            value = b"{broken" if kind == "poison" else orjson.dumps({"n": n, "kind": kind})
            pending.append(await producer.send(topic, value, key=str(n).encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    handled: Counter[str] = Counter()

    async def handle(message: Message) -> None:
        if message.value["kind"] == "fails":
            raise RuntimeError("this one always fails")
        if message.value["kind"] == "slow":
            await asyncio.sleep(s.slow_s)
        handled[str(message.value["n"])] += 1

    processor = KafkaBatchProcessor(
        bootstrap,
        [topic],
        f"e2e-{topic}",
        handle,
        concurrency=16,
        retry=RetryPolicy(max_attempts=3, backoff_s=0.01),
        commit_interval_s=0.25,
    )
    expected_ok = sum(1 for kind in kinds if kind in ("ok", "slow"))
    expected_dead = len(kinds) - expected_ok
    task = asyncio.create_task(processor.run())
    rows: list[Row] = []
    began = time.monotonic()
    try:
        async with asyncio.timeout(300):
            while len(handled) < expected_ok or processor.stats.dead_lettered < expected_dead:
                lag = processor.lag()
                rows.append(
                    {
                        "part": "lag",
                        "repeat": repeat,
                        "t_s": time.monotonic() - began,
                        "lag": sum(lag.values()) if lag else None,
                        "handled": sum(handled.values()),
                    }
                )
                await asyncio.sleep(0.25)
        elapsed = time.monotonic() - began
    finally:
        processor.stop()
        await task
    st = processor.stats
    rows.append(
        {
            "part": "end_to_end",
            "repeat": repeat,
            "messages": len(kinds),
            "expected_handled": expected_ok,
            "handled": len(handled),
            "expected_dead_lettered": expected_dead,
            "dead_lettered": st.dead_lettered,
            "undecodable": st.undecodable,
            "retried": st.retried,
            "duplicates": sum(handled.values()) - len(handled),
            "seconds": elapsed,
            "msgs_s": len(kinds) / elapsed,
            "commits": st.commits,
        }
    )
    return rows


# --- crash and scale-out (worker processes) --------------------------------------------------


async def _crash(s: MessagingSettings, repeat: int, bootstrap: str) -> list[Row]:
    topic = await new_topic(bootstrap, partitions=4)
    with tempfile.TemporaryDirectory() as folder:
        found = await crash_run(
            bootstrap, topic, Path(folder), total=s.crash_records, crashes=s.crashes
        )
    return [{"part": "crash", "repeat": repeat, **found}]


async def _group_stable(bootstrap: str, group: str, members: int, timeout_s: float) -> None:
    """Until the consumer group is Stable with ``members`` members (a rebalance is over)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                described = await admin.describe_consumer_groups([group])
                entry = described[0].groups[0]  # (error, group, state, protocol type, ...)
                if entry[2] == "Stable" and len(entry[5]) == members:
                    return
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def _scale_out(s: MessagingSettings, repeat: int, bootstrap: str) -> list[Row]:
    """Start the workers together, wait for the group to settle, then produce and time from
    the first handled message to the last."""
    rows: list[Row] = []
    for workers in s.scale_workers:
        topic = await new_topic(bootstrap, partitions=8)
        group = f"scale-{topic}"
        with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
            out = Path(folder) / "handled"

            def start(_: int, out: Path = out, topic: str = topic, group: str = group) -> Any:
                return start_worker(
                    bootstrap,
                    topic,
                    group,
                    out,
                    concurrency=4,
                    slow_ms=s.scale_handler_ms,
                    value_format="bytes",
                )

            with ThreadPoolExecutor(workers) as pool:
                for process in pool.map(start, range(workers)):
                    stack.callback(_stop_worker, process)
            await _group_stable(bootstrap, group, workers, timeout_s=120)
            await _fill(bootstrap, topic, s.scale_records)
            await until(partial(_all_offsets, out, s.scale_records), 300)
            elapsed = _handling_seconds(out)
        rows.append(
            {
                "part": "scale_out",
                "repeat": repeat,
                "workers": workers,
                "msgs_s": s.scale_records / elapsed,
                "seconds": elapsed,
            }
        )
    base = next((r["msgs_s"] for r in rows if r["workers"] == min(s.scale_workers)), None)
    for row in rows:
        row["vs_one"] = row["msgs_s"] / base if base else None
    return rows


def _all_offsets(out: Path, records: int) -> bool:
    return len({(p, o) for p, o, _, _ in handled_lines(out)}) >= records


def _handling_seconds(out: Path) -> float:
    """From the first handled message to the last, by the workers' own timestamps."""
    times = [float(t) for _, _, _, t in handled_lines(out)]
    return max(times) - min(times)


def _stop_worker(process: Any) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except Exception:
        process.kill()
        process.communicate()


PARTS = {
    "produce": _produce,
    "consume": _consume,
    "end_to_end": _end_to_end,
    "crash": _crash,
    "scale_out": _scale_out,
}


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: MessagingSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    s = chosen_settings(MessagingSettings, settings, quick)
    bootstrap = endpoints().kafka_bootstrap
    parts: dict[str, Part[MessagingSettings]] = {
        name: partial(_with_bootstrap, part, bootstrap) for name, part in PARTS.items()
    }
    parts["broker_failure"] = broker_failure  # on the 3-broker profile, not the single one
    return drive("messaging", s, s.parts, parts, progress)


def _with_bootstrap(
    part: Callable[[MessagingSettings, int, str], Awaitable[list[Row]]],
    bootstrap: str,
    s: MessagingSettings,
    repeat: int,
) -> Awaitable[list[Row]]:
    return part(s, repeat, bootstrap)


def quick_settings(**overrides: Any) -> MessagingSettings:
    return replace(MessagingSettings.quick(), **overrides)
