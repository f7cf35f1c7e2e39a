"""KafkaBatchProcessor against the real broker: counts by key, order, the dead-letter topic,
clean shutdown, slow handlers, and crashes (SIGKILL) while messages flow."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from lab.experiments.messaging.crash import crash_run, group_lag
from lab.patterns.messaging import ERROR_HEADERS, KafkaBatchProcessor, Message, RetryPolicy
from lab.patterns.messaging.dead_letter import header_dict
from tests.integration.kafka_helpers import (
    bootstrap,
    committed,
    keyed_json,
    new_topic,
    produce,
    read_all,
    run_until,
)
from tests.polling import eventually_async

pytestmark = pytest.mark.usefixtures("kafka_up")


def _processor(topic: str, group: str, handler: object, **kw: object) -> KafkaBatchProcessor:
    return KafkaBatchProcessor(bootstrap(), [topic], group, handler,  # type: ignore[arg-type]
                               commit_interval_s=0.2, **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize("ordering", ["key", "none"])
async def test_every_message_is_handled_once_and_committed(ordering: str) -> None:
    topic = await new_topic(partitions=4)
    await produce(topic, keyed_json(2_000))
    seen: Counter[bytes] = Counter()

    async def handle(message: Message) -> None:
        seen[message.key or b""] += 1

    processor = _processor(topic, f"g-{topic}", handle, concurrency=8, ordering=ordering)
    await run_until(processor, lambda: len(seen) == 2_000)
    assert set(seen.values()) == {1} and len(seen) == 2_000
    assert processor.stats.handled == 2_000 and processor.stats.dead_lettered == 0
    offsets = await committed(topic, f"g-{topic}", 4)
    assert sum(o or 0 for o in offsets.values()) == 2_000  # every partition committed to its end


async def test_order_is_kept_per_key() -> None:
    topic = await new_topic(partitions=4)
    records = [(f"k{n % 20}".encode(), orjson.dumps({"seq": n // 20})) for n in range(1_000)]
    await produce(topic, records)
    order: dict[bytes, list[int]] = defaultdict(list)
    rng = random.Random(7)

    async def handle(message: Message) -> None:
        await asyncio.sleep(rng.uniform(0, 0.002))  # handlers finish out of order
        order[message.key or b""].append(message.value["seq"])

    await run_until(_processor(topic, f"g-{topic}", handle, concurrency=16, ordering="key"),
                    lambda: sum(map(len, order.values())) == 1_000)  # fmt: skip
    assert all(seqs == list(range(50)) for seqs in order.values()) and len(order) == 20


@pytest.mark.parametrize("ordering", ["key", "none"])
async def test_poison_and_failing_messages_go_to_the_dead_letter_topic(ordering: str) -> None:
    topic = await new_topic(partitions=1)
    await produce(topic, [(b"a", b'{"n": 1}'), (b"poison", b"{not json"), (b"b", b'{"n": 2}'),
                          (b"fails", b'{"fail": true}'), (b"c", b'{"n": 3}')],
                  headers=[("trace-id", b"t-1")])  # fmt: skip
    handled: list[bytes] = []
    attempts: Counter[bytes] = Counter()

    async def handle(message: Message) -> None:
        attempts[message.key or b""] += 1
        if message.value.get("fail"):
            raise RuntimeError("cannot price this order")
        handled.append(message.key or b"")

    processor = _processor(topic, f"g-{topic}", handle, ordering=ordering,
                           retry=RetryPolicy(max_attempts=3, backoff_s=0.01))  # fmt: skip
    await run_until(processor, lambda: processor.stats.dead_lettered == 2 and len(handled) == 3)
    assert handled == [b"a", b"b", b"c"]  # the partition went on past both
    assert attempts[b"fails"] == 3 and attempts[b"poison"] == 0
    dead = {r.key: r for r in await read_all(f"{topic}.dlq", expected=2)}
    assert set(dead) == {b"poison", b"fails"}
    poison, fails = header_dict(dead[b"poison"].headers), header_dict(dead[b"fails"].headers)
    assert dead[b"poison"].value == b"{not json"  # the original bytes, untouched
    assert poison["trace-id"] == "t-1" and poison["lab.errors.attempts"] == "0"
    assert poison[ERROR_HEADERS["offset"]] == "1" and poison[ERROR_HEADERS["partition"]] == "0"
    assert "JSONDecodeError" in poison[ERROR_HEADERS["class"]]
    assert fails[ERROR_HEADERS["class"]] == "builtins.RuntimeError"
    assert fails[ERROR_HEADERS["message"]] == "cannot price this order"
    assert fails[ERROR_HEADERS["topic"]] == topic and fails["lab.errors.attempts"] == "3"
    assert (await committed(topic, f"g-{topic}", 1))[0] == 5


@pytest.mark.parametrize("ordering", ["key", "none"])
async def test_graceful_shutdown_commits_what_is_done_and_leaves_no_task(ordering: str) -> None:
    topic = await new_topic(partitions=2)
    await produce(topic, keyed_json(400))
    first: Counter[bytes] = Counter()

    async def slow(message: Message) -> None:
        await asyncio.sleep(0.01)
        first[message.key or b""] += 1

    before = asyncio.all_tasks()
    await run_until(_processor(topic, f"g-{topic}", slow, concurrency=4, ordering=ordering),
                    lambda: len(first) >= 100)  # fmt: skip
    assert asyncio.all_tasks() == before  # workers, committer, fetcher: all gone
    second: Counter[bytes] = Counter()

    async def fast(message: Message) -> None:
        second[message.key or b""] += 1

    await run_until(_processor(topic, f"g-{topic}", fast),
                    lambda: len(first) + len(second) >= 400)  # fmt: skip
    assert set(first) | set(second) == {str(n).encode() for n in range(400)}
    assert not set(first) & set(second)  # what finished before the stop was committed


async def test_cancelling_run_also_commits_and_leaves_the_group() -> None:
    topic = await new_topic(partitions=1)
    await produce(topic, keyed_json(300))
    handled: list[int] = []
    enough = asyncio.Event()

    async def handle(message: Message) -> None:
        await asyncio.sleep(0.005)
        handled.append(message.value["n"])
        if len(handled) == 100:
            enough.set()

    before = asyncio.all_tasks()
    task = asyncio.create_task(_processor(topic, f"g-{topic}", handle, concurrency=1,
                                          ordering="partition").run())  # fmt: skip
    await enough.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == before
    committed_to = (await committed(topic, f"g-{topic}", 1))[0]
    assert committed_to == len(handled) >= 100  # exactly what finished, in order


async def test_a_member_joining_takes_partitions_and_nothing_is_lost() -> None:
    """Messages waiting in the first member's queue for a partition it gives back are
    dropped (not committed) and handled by the member that now owns it."""
    topic = await new_topic(partitions=4)
    await produce(topic, keyed_json(400))
    seen: dict[str, Counter[bytes]] = {"first": Counter(), "second": Counter()}

    def member(name: str) -> KafkaBatchProcessor:
        async def handle(message: Message) -> None:
            await asyncio.sleep(0.02)  # 2 at a time: 4 s for all of them alone
            seen[name][message.key or b""] += 1

        return _processor(topic, f"g-{topic}", handle, concurrency=2, ordering="none",
                          consumer_options={"heartbeat_interval_ms": 300})  # fmt: skip

    first, second = member("first"), member("second")
    first_run = asyncio.create_task(first.run())
    try:
        assert await eventually_async(lambda: len(seen["first"]) >= 20)
        await run_until(second, lambda: len(seen["first"] | seen["second"]) == 400)
    finally:
        first.stop()
        await first_run
    assert first.stats.rebalances >= 2 and second.stats.handled > 0  # it did take some
    handled = seen["first"] + seen["second"]
    assert set(handled) == {str(n).encode() for n in range(400)}  # none lost
    assert sum(handled.values()) == 400  # what the first gave back, it did not handle


async def test_a_handler_slower_than_max_poll_interval_causes_no_rebalance() -> None:
    topic = await new_topic(partitions=1)
    await produce(topic, keyed_json(3))
    done: list[int] = []

    async def slow(message: Message) -> None:
        await asyncio.sleep(4.0 if message.value["n"] == 0 else 0)
        done.append(message.value["n"])

    processor = _processor(
        topic, f"g-{topic}", slow, concurrency=1, ordering="partition", max_buffered=1,
        consumer_options={"max_poll_interval_ms": 2_000, "session_timeout_ms": 6_000,
                          "heartbeat_interval_ms": 500},
    )  # fmt: skip
    await run_until(processor, lambda: len(done) == 3)
    assert done == [0, 1, 2]
    assert processor.stats.rebalances == 1  # the first assignment, and no other


async def test_group_lag_counts_what_a_group_has_not_committed() -> None:
    """What the crash run waits on before it counts losses: a message committed but never
    handled is then counted as lost, instead of showing up as a timeout."""
    topic = await new_topic(partitions=2)
    await produce(topic, keyed_json(40))
    group = f"g-{topic}"
    assert await group_lag(bootstrap(), topic, group) == 40  # no commit yet: all of it
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap(), group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(2)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        first = partitions[0]
        await consumer.commit({first: ends[first] - 3, partitions[1]: ends[partitions[1]]})
    finally:
        await consumer.stop()
    assert await group_lag(bootstrap(), topic, group) == 3


@pytest.mark.slow
def test_killed_workers_lose_nothing(tmp_path: Path) -> None:
    """10,000 messages; the worker is killed with SIGKILL three times while they flow."""
    topic = asyncio.run(new_topic(partitions=4))
    found = asyncio.run(crash_run(bootstrap(), topic, tmp_path, total=10_000, crashes=3))
    assert found["lost"] == 0 and found["unexpected"] == 0
    assert found["duplicates"] <= 3 * 1_000  # at most about a batch per crash
    assert found["clean_exit"] == 1.0
