"""KafkaBatchProcessor with a batch handler, against the real broker: every message once,
in offset order within a partition, batches no larger than asked, failing batches retried
whole and then dead-lettered message by message, commits to the end."""

from __future__ import annotations

from collections import Counter, defaultdict

import orjson
import pytest

from lab.errors import ConfigError
from lab.patterns.messaging import KafkaBatchProcessor, Message, RetryPolicy
from tests.integration.kafka_helpers import (
    bootstrap,
    committed,
    keyed_json,
    new_topic,
    produce,
    read_all,
    run_until,
)

pytestmark = pytest.mark.usefixtures("kafka_up")


def _processor(topic: str, batch_handler: object, **kw: object) -> KafkaBatchProcessor:
    return KafkaBatchProcessor(bootstrap(), [topic], f"g-{topic}", None,
                               batch_handler=batch_handler,  # type: ignore[arg-type]
                               commit_interval_s=0.2, **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("ordering", ["partition", "none"])
async def test_every_message_once_in_offset_order_within_batches(ordering: str) -> None:
    topic = await new_topic(partitions=3)
    await produce(topic, keyed_json(3_000))
    seen: Counter[bytes] = Counter()
    sizes: list[int] = []
    offsets: dict[int, list[int]] = defaultdict(list)  # partition -> offsets, as handled

    async def handle(messages: list[Message]) -> None:
        assert len({m.partition for m in messages}) == 1  # one partition per batch
        sizes.append(len(messages))
        for message in messages:
            seen[message.key or b""] += 1
            offsets[message.partition].append(message.offset)

    processor = _processor(topic, handle, batch_size=200, ordering=ordering, concurrency=4)
    await run_until(processor, lambda: len(seen) == 3_000)
    assert set(seen.values()) == {1} and len(seen) == 3_000
    assert max(sizes) <= 200 and len(sizes) < 3_000  # batches, not single messages
    if ordering == "partition":  # one batch of a partition at a time, in order
        assert all(handled == sorted(handled) for handled in offsets.values())
    assert processor.stats.handled == 3_000 and processor.stats.dead_lettered == 0
    assert sum(o or 0 for o in (await committed(topic, f"g-{topic}", 3)).values()) == 3_000


async def test_a_failing_batch_is_retried_whole_then_dead_lettered_message_by_message() -> None:
    topic = await new_topic(partitions=1)
    records = [(b"a", b'{"n": 1}'), (b"poison", b"{not json"), (b"b", b'{"fail": true}'),
               (b"c", b'{"n": 3}')]  # fmt: skip
    await produce(topic, records)
    calls: list[list[bytes]] = []

    async def handle(messages: list[Message]) -> None:
        calls.append([m.key or b"" for m in messages])
        if any(m.value.get("fail") for m in messages):
            raise RuntimeError("cannot price this batch")

    processor = _processor(topic, handle, batch_size=10,
                           retry=RetryPolicy(max_attempts=3, backoff_s=0.01))  # fmt: skip
    await run_until(processor, lambda: processor.stats.dead_lettered == 4)
    # the poison record never reached the handler; the rest came back as one batch 3 times
    assert calls == [[b"a", b"b", b"c"]] * 3
    assert processor.stats.undecodable == 1 and processor.stats.retried == 2
    assert processor.stats.handled == 0
    dead = await read_all(f"{topic}.dlq", expected=4)
    assert sorted(r.key for r in dead) == [b"a", b"b", b"c", b"poison"]
    assert orjson.loads(next(r.value for r in dead if r.key == b"b")) == {"fail": True}
    assert (await committed(topic, f"g-{topic}", 1))[0] == 4  # the partition moved on


async def test_batches_of_one_are_still_batches() -> None:
    topic = await new_topic(partitions=1)
    await produce(topic, keyed_json(50))
    sizes: list[int] = []

    async def handle(messages: list[Message]) -> None:
        sizes.append(len(messages))

    processor = _processor(topic, handle, batch_size=1, ordering="partition")
    await run_until(processor, lambda: len(sizes) == 50)
    assert sizes == [1] * 50 and processor.stats.handled == 50


def test_one_handler_kind_is_given() -> None:
    async def handle(message: Message) -> None: ...

    async def handle_batch(messages: list[Message]) -> None: ...

    with pytest.raises(ConfigError, match="exactly one of handler and batch_handler"):
        KafkaBatchProcessor("x:1", ["t"], "g", handle, batch_handler=handle_batch)
    with pytest.raises(ConfigError, match="exactly one of handler and batch_handler"):
        KafkaBatchProcessor("x:1", ["t"], "g", None)
