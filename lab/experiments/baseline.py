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
from typing import Any

import pandas as pd

from lab.config import Endpoints, endpoints
from lab.errors import ServiceUnavailableError
from lab.harness import native
from lab.harness.aio import new_runner
from lab.harness.closed_loop import ClosedLoopResult, run_closed_loop
from lab.harness.services import probe
from lab.harness.services.kafka_native import kafka_classpath, kafka_java

__all__ = ["OPERATIONS", "BaselineSettings", "ratios", "run", "slo_metrics"]

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
    kafka_native_records: int = 300_000
    services: tuple[str, ...] = SERVICES

    @classmethod
    def quick(cls) -> BaselineSettings:
        return cls(
            duration_s=0.5, repeats=2, redis_native_requests=20_000, kafka_native_records=50_000
        )


Row = dict[str, Any]


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
    return _row(service, operation, c, repeat, "native", found.tool, found.ops,
                found.throughput_ops_s, latency_ms_p50=found.latency_ms_p50,
                latency_ms_p99=found.latency_ms_p99, latency_ms_mean=found.latency_ms_mean)  # fmt: skip


# --- Redis -------------------------------------------------------------------------------


async def _redis_python(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    import redis
    import redis.asyncio as aioredis

    rows = []
    for c in s.concurrencies:
        client = aioredis.Redis.from_url(ep.redis_url, max_connections=c)
        try:
            await client.set("lab:baseline", VALUE_16B)
            ops: dict[str, Callable[[int], Awaitable[object]]] = {
                "get": lambda _: client.get("lab:baseline"),
                "set": lambda _: client.set("lab:baseline", VALUE_16B),
            }
            for operation in OPERATIONS["redis"]:
                result = await run_closed_loop(
                    ops[operation], concurrency=c, duration_s=s.duration_s
                )
                rows.append(_python_row("redis", operation, c, repeat,
                                        f"redis-py {redis.__version__}", result))  # fmt: skip
        finally:
            await client.aclose()
    return rows


def _redis_native(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    where = ep.redis
    return [
        _native_row("redis", c, repeat, native.redis_benchmark(
            where.host, where.port, operation, c, s.redis_native_requests), operation)
        for c in s.concurrencies
        for operation in OPERATIONS["redis"]
    ]  # fmt: skip


# --- PostgreSQL ----------------------------------------------------------------------------


async def _connections_percent(conn: Any) -> float:
    used = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
    limit = await conn.fetchval("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
    return 100.0 * float(used) / float(limit)


async def _postgres_python(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    import asyncpg

    rows = []
    pk_sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1"
    for c in s.concurrencies:
        # One connection held per worker, as pgbench holds one per client: this measures
        # the driver's round trip; pool acquire/release costs belong to the pool pattern.
        conns = [await asyncpg.connect(ep.postgres_dsn) for _ in range(c)]
        try:
            rng = random.Random(repeat)
            ops: dict[str, Callable[[int], Awaitable[object]]] = {
                "select_1": lambda i: conns[i].fetchval("SELECT 1"),
                "pk_lookup": lambda i: conns[i].fetchval(pk_sql, rng.randint(1, PGBENCH_ROWS)),
            }
            connections = await _connections_percent(conns[0])
            for operation in OPERATIONS["postgres"]:
                result = await run_closed_loop(ops[operation], concurrency=c, duration_s=s.duration_s)
                row = _python_row("postgres", operation, c, repeat,
                                  f"asyncpg {asyncpg.__version__}", result)  # fmt: skip
                row["db_connections_percent"] = connections
                rows.append(row)
        finally:
            await asyncio.gather(*(conn.close() for conn in conns))
    return rows


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


def _ensure_pgbench_tables(ep: Endpoints) -> None:
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
    native.pgbench_init(where.host, where.port, ep.postgres_user, ep.postgres_database, PGBENCH_SCALE)


# --- Kafka ---------------------------------------------------------------------------------


async def _kafka_python(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    import aiokafka
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"lab-baseline-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=ep.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=ep.kafka_bootstrap, acks=1, linger_ms=0)
    consumer = AIOKafkaConsumer(bootstrap_servers=ep.kafka_bootstrap, enable_auto_commit=False,
                                fetch_max_wait_ms=100)  # fmt: skip
    await producer.start()
    await consumer.start()
    waiting: dict[bytes, asyncio.Future[None]] = {}

    async def deliver() -> None:
        async for message in consumer:
            future = waiting.pop(message.key or b"", None)
            if future is not None and not future.done():
                future.set_result(None)

    async def roundtrip(_: int) -> None:
        key = uuid.uuid4().bytes
        arrived = asyncio.get_running_loop().create_future()
        waiting[key] = arrived
        await producer.send_and_wait(topic, RECORD_100B, key=key)
        await arrived

    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    await consumer.seek_to_end(partition)
    delivery = asyncio.create_task(deliver())
    ops: dict[str, Callable[[int], Awaitable[object]]] = {
        "produce": lambda _: producer.send_and_wait(topic, RECORD_100B),
        "roundtrip": roundtrip,
    }
    rows = []
    try:
        for c in s.concurrencies:
            for operation in OPERATIONS["kafka"]:
                result = await run_closed_loop(ops[operation], concurrency=c, duration_s=s.duration_s)
                rows.append(_python_row("kafka", operation, c, repeat,
                                        f"aiokafka {aiokafka.__version__}", result))  # fmt: skip
    finally:
        delivery.cancel()
        await asyncio.gather(delivery, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
    return rows


def _kafka_native(ep: Endpoints, s: BaselineSettings, repeat: int) -> list[Row]:
    found = native.kafka_producer_perf(
        kafka_java(), kafka_classpath(), ep.kafka_bootstrap, records=s.kafka_native_records
    )
    # One Java producer pipelines on its own: it is the ceiling for every concurrency.
    return [_native_row("kafka", 0, repeat, found, "produce")]


PYTHON = {"redis": _redis_python, "postgres": _postgres_python, "kafka": _kafka_python}
NATIVE = {"redis": _redis_native, "postgres": _postgres_native, "kafka": _kafka_native}


def _require(services: Iterable[str], ep: Endpoints) -> None:
    for service in services:
        health = probe(service, ep)
        if not health.healthy:
            raise ServiceUnavailableError(service, health.detail)


def run(
    quick: bool = False,
    settings: BaselineSettings | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> pd.DataFrame:
    """Measure every cell ``repeats`` times, Python and native interleaved per repeat."""
    s = settings or (BaselineSettings.quick() if quick else BaselineSettings())
    ep = endpoints()
    _require(s.services, ep)
    if "postgres" in s.services:
        _ensure_pgbench_tables(ep)
    rows: list[Row] = []
    with new_runner() as runner:
        for repeat in range(s.repeats):
            for service in s.services:
                progress(f"baseline: {service}, repeat {repeat + 1}/{s.repeats}")
                rows += runner.run(PYTHON[service](ep, s, repeat))
                rows += NATIVE[service](ep, s, repeat)
    return pd.DataFrame(rows)


def ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per Python cell: its medians and, where a native tool ran, the ratio.

    The ratio is python/native throughput taken per repeat (both measured within the same
    minute), then summarised as median, min and max over the repeats.
    """
    cell = ["service", "operation", "concurrency"]
    python = frame[frame.client == "python"]
    natives = frame[frame.client == "native"]
    keys = ["service", "operation", "repeat"]
    exact = python.merge(natives, on=[*keys, "concurrency"], suffixes=("", "_native"))
    shared = natives[natives.concurrency == 0].drop(columns="concurrency")
    paired = pd.concat(
        [exact, python.merge(shared, on=keys, suffixes=("", "_native"))], ignore_index=True
    )
    paired["ratio"] = paired.throughput_ops_s / paired.throughput_ops_s_native
    measured = python.groupby(cell, sort=False).agg(
        python_ops_s=("throughput_ops_s", "median"),
        p50_ms=("latency_ms_p50", "median"),
        p99_ms=("latency_ms_p99", "median"),
    )
    compared = paired.groupby(cell, sort=False).agg(
        native_tool=("tool_native", "first"),
        native_ops_s=("throughput_ops_s_native", "median"),
        ratio=("ratio", "median"),
        ratio_min=("ratio", "min"),
        ratio_max=("ratio", "max"),
        runs=("ratio", "size"),
    )
    table = measured.join(compared, how="left").reset_index()
    table["native_tool"] = table.native_tool.fillna("(none)")
    table["runs"] = table.runs.fillna(0).astype(int)
    return table


def slo_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """What of the SLO this experiment measures: the database connections it held."""
    if "db_connections_percent" not in frame or frame.db_connections_percent.isna().all():
        return {}
    return {"db_connections_percent": float(frame.db_connections_percent.max())}


def quick_settings(**overrides: Any) -> BaselineSettings:
    """The quick settings with some fields changed (tests and benchmarks use this)."""
    return replace(BaselineSettings.quick(), **overrides)
