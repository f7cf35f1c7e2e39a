"""Baseline: what one round trip to Redis, PostgreSQL and Kafka costs from Python.

Each cell (service, operation, concurrency) is measured by a Python client and, in the
same repeat, by the server's own benchmark tool (``redis-benchmark``, ``pgbench -S``,
Kafka's ``ProducerPerformance``). The ratio python/native says how much of the server's
capacity a Python client can use; compare ratios, not absolute rates, across days.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pandas as pd

from lab.config import Endpoints, endpoints
from lab.errors import ServiceUnavailableError
from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.harness import kafka_tools, native
from lab.harness.aio import new_runner, outside_event_loop
from lab.harness.closed_loop import ClosedLoopResult, run_closed_loop
from lab.harness.services import probe
from lab.harness.services.kafka_native import kafka_classpath, kafka_java

__all__ = [
    "NATIVE",
    "OPERATIONS",
    "PGBENCH_ROWS",
    "PGBENCH_SCALE",
    "RECORD_100B",
    "SERVICES",
    "VALUE_16B",
    "BaselineSettings",
    "KafkaSession",
    "PostgresSession",
    "RedisSession",
    "Session",
    "ensure_pgbench_tables",
    "quick_settings",
    "run",
    "run_batch",
    "session",
]

SERVICES = ("redis", "postgres", "kafka")
#: The operations measured per service. Kafka "roundtrip" has no native counterpart.
OPERATIONS = {
    "redis": ("get", "set"),
    "postgres": ("select_1", "pk_lookup"),
    "kafka": ("produce", "roundtrip"),
}
PGBENCH_SCALE = 1
PGBENCH_ROWS = 100_000 * PGBENCH_SCALE
VALUE_16B = b"x" * 16
RECORD_100B = b"A" * 100


@dataclass(frozen=True)
class BaselineSettings:
    concurrencies: tuple[int, ...] = (1, 32)
    duration_s: float = 3.0
    repeats: int = 3
    redis_native_requests: int = 100_000
    #: Quick or full: ProducerPerformance's JVM warms up over about 200k records, so a
    #: shorter run measures its warm-up, not its ceiling (quick ratio 0.40 over 50k
    #: records, full 0.235 over 300k).
    kafka_native_records: int = 300_000
    services: tuple[str, ...] = SERVICES

    @classmethod
    def quick(cls) -> BaselineSettings:
        return cls(duration_s=0.5, repeats=2, redis_native_requests=20_000)


def _row(service: str, operation: str, concurrency: int, repeat: int, client: str,
         tool: str, ops: int, throughput: float, **latency: float) -> Row:  # fmt: skip
    return {
        "service": service, "operation": operation, "concurrency": concurrency,
        "repeat": repeat, "client": client, "tool": tool, "ops": ops,
        "throughput_ops_s": throughput, **latency,
    }  # fmt: skip


def _python_row(service: str, operation: str, c: int, repeat: int, tool: str,
                result: ClosedLoopResult) -> Row:  # fmt: skip
    summary = result.latency.summary()
    return _row(service, operation, c, repeat, "python", tool, result.ops,
                result.throughput_ops_s, **summary.as_columns())  # fmt: skip


def _native_row(service: str, c: int, repeat: int, found: native.NativeResult,
                operation: str) -> Row:  # fmt: skip
    latency = {
        "latency_ms_p50": found.latency_ms_p50,
        "latency_ms_p99": found.latency_ms_p99,
        "latency_ms_mean": found.latency_ms_mean,
    }
    return _row(service, operation, c, repeat, "native", found.tool, found.ops,
                found.throughput_ops_s, **latency)  # fmt: skip


Operation = Callable[[int], Awaitable[object]]


class Session:
    """Open clients for one service at one concurrency, and its operations by name.

    ``ops[name](worker)`` runs one operation; ``worker`` < concurrency picks the worker's
    own connection where the client has one per worker.
    """

    tool = ""

    def __init__(self, ep: Endpoints, concurrency: int) -> None:
        self.ep = ep
        self.concurrency = concurrency
        self.ops: dict[str, Operation] = {}

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class RedisSession(Session):
    async def open(self) -> None:
        import redis
        import redis.asyncio as aioredis

        self.tool = f"redis-py {redis.__version__}"
        self.client = aioredis.Redis.from_url(self.ep.redis_url, max_connections=self.concurrency)
        await self.client.set("lab:baseline", VALUE_16B)
        self.ops = {
            "get": lambda _: self.client.get("lab:baseline"),
            "set": lambda _: self.client.set("lab:baseline", VALUE_16B),
        }

    async def close(self) -> None:
        await self.client.aclose()


class PostgresSession(Session):
    """One connection held per worker, as pgbench holds one per client: this measures the
    driver's round trip; a pool's acquire/release cost belongs to the pool pattern."""

    async def open(self) -> None:
        import asyncpg

        self.tool = f"asyncpg {asyncpg.__version__}"
        self.conns = [await asyncpg.connect(self.ep.postgres_dsn) for _ in range(self.concurrency)]
        rng = random.Random(0)
        pk_sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1"
        self.ops = {
            "select_1": lambda i: self.conns[i].fetchval("SELECT 1"),
            "pk_lookup": lambda i: self.conns[i].fetchval(pk_sql, rng.randint(1, PGBENCH_ROWS)),
        }

    async def connections_percent(self) -> float:
        conn = self.conns[0]
        used = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        )
        limit = await conn.fetchval(
            "SELECT setting::int FROM pg_settings WHERE name = 'max_connections'"
        )
        return 100.0 * float(used) / float(limit)

    async def close(self) -> None:
        await asyncio.gather(*(conn.close() for conn in self.conns))


class KafkaSession(Session):
    """One producer (acks=1, no linger) and one consumer on a fresh one-partition topic.

    ``roundtrip`` produces a keyed message and waits until the consumer has it.
    """

    async def open(self) -> None:
        import aiokafka
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        self.tool = f"aiokafka {aiokafka.__version__}"
        bootstrap = self.ep.kafka_bootstrap
        topic = f"lab-baseline-{uuid.uuid4().hex[:8]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        finally:
            await admin.close()
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )
        await self.producer.start()
        await self.consumer.start()
        partition = TopicPartition(topic, 0)
        self.consumer.assign([partition])
        await self.consumer.seek_to_end(partition)
        self.waiting: dict[bytes, asyncio.Future[None]] = {}
        self.delivery = asyncio.create_task(self._deliver())
        self.ops = {
            "produce": lambda _: self.producer.send_and_wait(topic, RECORD_100B),
            "roundtrip": lambda _: self._roundtrip(topic),
        }

    async def _deliver(self) -> None:
        async for message in self.consumer:
            future = self.waiting.pop(message.key or b"", None)
            if future is not None and not future.done():
                future.set_result(None)

    async def _roundtrip(self, topic: str) -> None:
        key = uuid.uuid4().bytes
        arrived = asyncio.get_running_loop().create_future()
        self.waiting[key] = arrived
        await self.producer.send_and_wait(topic, RECORD_100B, key=key)
        await arrived

    async def close(self) -> None:
        self.delivery.cancel()
        await asyncio.gather(self.delivery, return_exceptions=True)
        await self.consumer.stop()
        await self.producer.stop()


SESSIONS: dict[str, type[Session]] = {
    "redis": RedisSession,
    "postgres": PostgresSession,
    "kafka": KafkaSession,
}


def session(service: str, concurrency: int, ep: Endpoints | None = None) -> Session:
    """A not-yet-opened session; ``async with`` it, or call ``open()`` and ``close()``."""
    return SESSIONS[service](ep or endpoints(), concurrency)


async def run_batch(operation: Operation, count: int, concurrency: int) -> None:
    """Run ``operation`` ``count`` times spread over ``concurrency`` workers (for timing)."""

    async def worker(index: int) -> None:
        for _ in range(index, count, concurrency):
            await operation(index)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))


async def _python_rows(service: str, ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    rows = []
    for c in s.concurrencies:
        async with session(service, c, ep) as opened:
            extra: dict[str, float] = {}
            if isinstance(opened, PostgresSession):
                extra["db_connections_percent"] = await opened.connections_percent()
            for operation in OPERATIONS[service]:
                result = await run_closed_loop(
                    opened.ops[operation], concurrency=c, duration_s=s.duration_s
                )
                row = _python_row(service, operation, c, repeat, opened.tool, result)
                rows.append({**row, **extra})
    return rows


def _redis_native(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    where = ep.redis
    return [
        _native_row("redis", c, repeat, native.redis_benchmark(
            where.host, where.port, operation, c, s.redis_native_requests), operation)
        for c in s.concurrencies
        for operation in OPERATIONS["redis"]
    ]  # fmt: skip


def _postgres_native(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    where = ep.postgres
    args = (where.host, where.port, ep.postgres_user, ep.postgres_database)
    seconds = max(1, round(s.duration_s))
    scripts = {"select_1": "SELECT 1;", "pk_lookup": "select-only"}
    return [
        _native_row("postgres", c, repeat, native.pgbench(
            *args, script=scripts[operation], clients=c, seconds=seconds), operation)
        for c in s.concurrencies
        for operation in OPERATIONS["postgres"]
    ]  # fmt: skip


def ensure_pgbench_tables(ep: Endpoints) -> None:
    async def has_tables() -> bool:
        import asyncpg

        conn = await asyncpg.connect(ep.postgres_dsn)
        try:
            count = await conn.fetchval(
                "SELECT count(*) FROM pg_class WHERE relname = 'pgbench_accounts'"
            )
            return bool(count)
        finally:
            await conn.close()

    with new_runner() as runner:
        if runner.run(has_tables()):
            return
    where = ep.postgres
    native.pgbench_init(
        where.host, where.port, ep.postgres_user, ep.postgres_database, PGBENCH_SCALE
    )


def _kafka_native(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    found = kafka_tools.producer_perf(
        kafka_java(), kafka_classpath(), ep.kafka_bootstrap,
        f"lab-native-{uuid.uuid4().hex[:8]}", records=s.kafka_native_records, record_size=100,
        props={"acks": "1"},
    )  # fmt: skip
    # One Java producer pipelines on its own: it is the ceiling for every concurrency.
    return [_native_row("kafka", 0, repeat, found, "produce")]


NATIVE = {"redis": _redis_native, "postgres": _postgres_native, "kafka": _kafka_native}


def _require(services: Iterable[str], ep: Endpoints) -> None:
    for service in services:
        health = probe(service, ep)
        if not health.healthy:
            raise ServiceUnavailableError(service, health.detail)


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: BaselineSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Measure every cell ``repeats`` times, Python and native interleaved per repeat."""
    s = chosen_settings(BaselineSettings, settings, quick)
    ep = endpoints()
    _require(s.services, ep)
    if "postgres" in s.services:
        ensure_pgbench_tables(ep)
    parts: dict[str, Part[BaselineSettings]] = {}
    for service in s.services:
        parts[f"{service} python"] = partial(_python_part, service, ep)
        parts[f"{service} native"] = partial(NATIVE[service], ep)
    return drive("baseline", s, list(parts), parts, progress)


def _python_part(
    service: str, ep: Endpoints, s: BaselineSettings, repeat: int
) -> Awaitable[list[Row]]:
    return _python_rows(service, ep, s, repeat)


def quick_settings(**overrides: Any) -> BaselineSettings:
    """The quick settings with some fields changed (tests and benchmarks use this)."""
    return replace(BaselineSettings.quick(), **overrides)
