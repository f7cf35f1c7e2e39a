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
