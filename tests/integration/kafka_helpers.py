"""What the Kafka integration tests share: fresh topics, producing keyed records, reading
a topic back, and running a processor until a condition holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from lab.config import endpoints
from lab.experiments.messaging import measure
from lab.patterns.messaging import KafkaBatchProcessor


def bootstrap() -> str:
    return endpoints().kafka_bootstrap


async def new_topic(partitions: int = 1, prefix: str = "test") -> str:
    return await measure.new_topic(bootstrap(), partitions, prefix)


async def produce(topic: str, records: Sequence[tuple[bytes | None, bytes]],
                  headers: Sequence[tuple[str, bytes]] = ()) -> None:  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap(), acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key, headers=list(headers))
                for key, value in records]  # fmt: skip
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def keyed_json(count: int, start: int = 0) -> list[tuple[bytes | None, bytes]]:
    return [(str(n).encode(), orjson.dumps({"n": n})) for n in range(start, start + count)]


async def read_all(topic: str, expected: int, timeout_s: float = 30.0) -> list[ConsumerRecord]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap(),
                                auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += records
    finally:
        await consumer.stop()
    return found


async def committed(topic: str, group: str, partitions: int) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap(), group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        await consumer.stop()


async def run_until(processor: KafkaBatchProcessor, done: Callable[[], bool],
                    timeout_s: float = 60.0) -> None:  # fmt: skip
    """Run ``processor`` until ``done()`` holds (then stop it cleanly); fail on timeout."""
    task = asyncio.create_task(processor.run())
    try:
        async with asyncio.timeout(timeout_s):
            while not done():
                if task.done():
                    await task  # surfaces its error
                    raise AssertionError("the processor stopped on its own")
                await asyncio.sleep(0.05)
    finally:
        processor.stop()
        await task
