"""The processor's fetch loop against a consumer fake (pure logic, no broker): a full
buffer pauses fetching, and room in it resumes fetching without waiting out a fetch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest
from aiokafka.structs import ConsumerRecord, TopicPartition

from lab.patterns.messaging import KafkaBatchProcessor, Message

TP = TopicPartition("t", 0)


class PausingConsumer:
    """Hands out ``records`` ``max_records`` at a time, none while paused; a paused fetch
    with a timeout sleeps it out, as aiokafka's does, and is counted."""

    def __init__(self, total: int) -> None:
        self.records = [
            ConsumerRecord("t", 0, n, 0, 0, None, b"v", None, 1, 1, []) for n in range(total)
        ]
        self.position = 0
        self.is_paused = False
        self.waits_while_paused = 0

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def paused(self) -> set[TopicPartition]:
        return {TP} if self.is_paused else set()

    def pause(self, *partitions: TopicPartition) -> None:
        self.is_paused = True

    def resume(self, *partitions: TopicPartition) -> None:
        self.is_paused = False

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list]:
        if self.is_paused or self.position >= len(self.records):
            self.waits_while_paused += self.is_paused and timeout_ms > 0
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        chunk = self.records[self.position : self.position + max_records]
        self.position += len(chunk)
        return {TP: chunk}


async def _run(
    ordering: str, batches: bool, total: int
) -> tuple[list[int], KafkaBatchProcessor, PausingConsumer]:
    handled: list[int] = []
    done = asyncio.Event()

    def took(messages: Iterable[Message]) -> None:
        handled.extend(message.offset for message in messages)
        if len(handled) >= total:
            done.set()

    async def handle(message: Message) -> None:
        await asyncio.sleep(0)  # a handler that awaits something
        took([message])

    async def handle_batch(messages: list[Message]) -> None:
        await asyncio.sleep(0)
        took(messages)

    processor = KafkaBatchProcessor(
        "unused:9092", ["t"], "g", None if batches else handle,
        batch_handler=handle_batch if batches else None, ordering=ordering,  # type: ignore[arg-type]
        value_format="bytes", concurrency=4, batch_size=20, max_buffered=50,
    )  # fmt: skip
    consumer = PausingConsumer(total)
    processor._consumer = consumer  # type: ignore[assignment]
    workers = [asyncio.create_task(processor._work()) for _ in range(processor.concurrency)]
    fetching = asyncio.create_task(processor._fetch())
    try:
        async with asyncio.timeout(60):
            await done.wait()
    finally:
        processor.stop()
        await fetching
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return handled, processor, consumer


@pytest.mark.parametrize(
    ("ordering", "batches"), [("none", False), ("key", False), ("partition", True)]
)
async def test_a_full_buffer_pauses_fetching_and_room_resumes_it(
    ordering: str, batches: bool
) -> None:
    handled, processor, consumer = await _run(ordering, batches, total=1_000)
    assert sorted(handled) == list(range(1_000))  # each once
    assert processor.stats.paused >= 10  # 50 at most in the buffer: it paused again and again
    assert consumer.waits_while_paused == 0  # never sat out a fetch that could bring nothing


class TwoPartitions:
    """One fetch of ten records from each of two partitions, then nothing; commits are
    kept as the consumer would send them."""

    def __init__(self) -> None:
        self.partitions = [TopicPartition("t", 0), TopicPartition("t", 1)]
        self.fetched = False
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.partitions)

    def paused(self) -> set[TopicPartition]:
        return set()

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list]:
        if self.fetched:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        self.fetched = True
        return {tp: [ConsumerRecord("t", tp.partition, n, 0, 0, None, b"v", None, 1, 1, [])
                     for n in range(10)] for tp in self.partitions}  # fmt: skip

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


async def test_giving_back_a_partition_drops_only_its_waiting_messages() -> None:
    """With no order to keep, a worker takes messages from the middle of a fetch; the
    partition given back then loses what of it still waits (not committed: another member
    handles it), its handled messages are committed, and the other's are each handled."""
    consumer = TwoPartitions()
    first, second = consumer.partitions
    handled: list[tuple[int, int]] = []
    third_in_hand, go_on, thirteen = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def handle(message: Message) -> None:
        handled.append((message.partition, message.offset))
        if len(handled) == 3:
            third_in_hand.set()
            await go_on.wait()
        if len(handled) == 13:  # the three, and the other partition's ten
            thirteen.set()

    processor = KafkaBatchProcessor("unused:9092", ["t"], "g", handle, ordering="none",
                                    value_format="bytes", concurrency=1)  # fmt: skip
    processor._consumer = consumer  # type: ignore[assignment]
    worker = asyncio.create_task(processor._work())
    fetching = asyncio.create_task(processor._fetch())
    try:
        async with asyncio.timeout(10):
            await third_in_hand.wait()
            giving_back = asyncio.create_task(processor._give_back({first}))
            await asyncio.sleep(0)  # it dropped the waiting ones, and waits for the third
            go_on.set()
            await giving_back
            await thirteen.wait()
    finally:
        processor.stop()
        await fetching
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert handled == [(0, 0), (0, 1), (0, 2), *((1, n) for n in range(10))]
    assert consumer.commits[0] == {first: 3}  # what it handled of the partition given back
    assert processor._buffered == 0 and first not in processor._offsets
    assert second in processor._offsets
