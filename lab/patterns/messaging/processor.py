"""``KafkaBatchProcessor``: batches from aiokafka, bounded handlers, at-least-once commits.

How it keeps at-least-once without losing or blocking:

* each partition commits only up to its first offset not yet handled or dead-lettered
  (:class:`~lab.patterns.messaging.offsets.PartitionOffsets`), after the fact, so a crash
  between handling and commit repeats messages and never loses one;
* ``concurrency`` workers take messages from per-key (or per-partition) chains, so order
  is kept where it matters (with no order to keep, from one queue), and fetching pauses
  while ``max_buffered`` messages wait, until the handlers have taken half of them;
* a dead-lettered record keeps its key, value and headers and gains Kafka Connect's error
  headers (:mod:`~lab.patterns.messaging.dead_letter`). A record that cannot be decoded
  goes there at once; a handler that keeps failing goes there after
  ``retry.max_attempts`` with backoff, and its partition moves on;
* ``stop()`` (or SIGTERM, or cancelling ``run()``) stops fetching, gives in-flight
  handlers ``shutdown_deadline_s``, commits what is done and leaves the group; a
  rebalance commits the revoked partitions' finished work first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal, NamedTuple, get_args

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from lab.errors import ConfigError
from lab.patterns.histogram import BucketHistogram
from lab.patterns.messaging.dead_letter import dead_letter_headers
from lab.patterns.messaging.offsets import PartitionOffsets

__all__ = ["KafkaBatchProcessor", "Message", "ProcessorStats", "RetryPolicy"]

Ordering = Literal["key", "partition", "none"]
Decoder = Callable[[bytes | None], Any]
DECODERS: dict[str, Decoder] = {
    "json": lambda raw: None if raw is None else orjson.loads(raw),
    "bytes": lambda raw: raw,
}


_UNREAD: Any = object()  # a value not decoded (yet)

#: A ``Message`` from its fields in order, without NamedTuple's Python-level ``__new__``:
#: the per-message path builds one for every message.
_new_message = tuple.__new__


class Message(NamedTuple):
    """What a handler gets: the decoded value and where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: Any
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int
    attempt: int  # 1 on the first try


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries in all; waits grow by ``multiplier`` from ``backoff_s`` up to
    ``max_backoff_s``, each drawn in [half, full] (jitter)."""

    max_attempts: int = 3
    backoff_s: float = 0.1
    multiplier: float = 2.0
    max_backoff_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff_s < 0 or self.multiplier < 1:
            raise ConfigError("retry needs max_attempts >= 1, backoff_s >= 0, multiplier >= 1")

    def wait_s(self, failed_attempts: int, rng: random.Random) -> float:
        full = min(self.max_backoff_s, self.backoff_s * self.multiplier ** (failed_attempts - 1))
        return rng.uniform(full / 2, full)


@dataclass
class ProcessorStats:
    consumed: int = 0
    handled: int = 0
    retried: int = 0  # attempts after the first
    dead_lettered: int = 0
    undecodable: int = 0  # dead-lettered without a handler call
    commits: int = 0
    commit_failures: int = 0
    rebalances: int = 0
    paused: int = 0  # times fetching paused for a full buffer
    handle_seconds: BucketHistogram = field(default_factory=BucketHistogram)
    commit_seconds: BucketHistogram = field(default_factory=BucketHistogram)


def _partition(record: ConsumerRecord[bytes, bytes]) -> TopicPartition:
    # A plain tuple: it equals (and hashes as) the TopicPartition keys aiokafka hands out,
    # and costs less to build.
    return (record.topic, record.partition)


class _PartitionState:
    """What the processor keeps of a partition it has fetched from: its offsets (``None``
    once the partition was given back) and how many of its messages are in a handler.
    One object per partition, found once per fetch, so a message's bookkeeping is two
    attribute updates, not lookups keyed by (topic, partition)."""

    __slots__ = ("in_hand", "offsets")

    def __init__(self) -> None:
        self.offsets: PartitionOffsets | None = None
        self.in_hand = 0


class _Revoked(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: KafkaBatchProcessor) -> None:
        self.processor = processor

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.processor._give_back(set(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.processor.stats.rebalances += 1


class KafkaBatchProcessor:
    """``await KafkaBatchProcessor(bootstrap, topics, group, handler).run()``.

    ``handler(message)`` is an async function; an exception means "failed, retry".
    ``ordering`` keeps messages with one key (``"key"``), or one partition
    (``"partition"``), in order; ``"none"`` handles everything concurrently.

    Or ``batch_handler(messages)`` (give ``handler=None``): it gets up to ``batch_size``
    messages of one partition, in offset order, in one call, as high-throughput consumers
    do; an exception retries the whole batch, and a batch that keeps failing goes to the
    dead-letter topic message by message. Batches of one partition run one after another
    with ``"key"`` or ``"partition"`` ordering; with ``"none"``, each fetched chunk is a
    batch of its own and chunks run concurrently.
    """

    def __init__(
        self,
        bootstrap: str,
        topics: list[str],
        group_id: str,
        handler: Callable[[Message], Awaitable[None]] | None,
        *,
        batch_handler: Callable[[list[Message]], Awaitable[None]] | None = None,
        concurrency: int = 16,
        ordering: Ordering = "key",
        max_buffered: int = 2_000,
        batch_size: int = 500,
        retry: RetryPolicy | None = None,
        dead_letter_topic: str | None = None,
        value_format: str = "json",
        commit_interval_s: float = 1.0,
        shutdown_deadline_s: float = 10.0,
        consumer_options: dict[str, Any] | None = None,
        producer_options: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ConfigError("give exactly one of handler and batch_handler")
        if concurrency < 1 or max_buffered < 1 or batch_size < 1:
            raise ConfigError("concurrency, max_buffered and batch_size must be at least 1")
        if ordering not in get_args(Ordering):
            raise ConfigError(f"ordering must be key, partition or none, not {ordering!r}")
        if value_format not in DECODERS:
            raise ConfigError(f"value_format must be one of {', '.join(DECODERS)}")
        self.bootstrap, self.topics, self.group_id = bootstrap, topics, group_id
        self.handler, self.batch_handler = handler, batch_handler
        self.concurrency, self.ordering = concurrency, ordering
        self.max_buffered, self.batch_size = max_buffered, batch_size
        self.retry = retry or RetryPolicy()
        self.dead_letter_topic = dead_letter_topic  # None: "<source topic>.dlq"
        self.decode = DECODERS[value_format]
        self.commit_interval_s, self.shutdown_deadline_s = commit_interval_s, shutdown_deadline_s
        self.consumer_options = {"auto_offset_reset": "earliest", **(consumer_options or {})}
        self.producer_options = {"acks": "all", **(producer_options or {})}
        self.stats = ProcessorStats()
        self._rng = random.Random(seed)
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._partitions: dict[TopicPartition, _PartitionState] = {}
        self._chains: dict[Hashable, deque[ConsumerRecord[bytes, bytes]]] = {}
        self._ready: deque[Hashable] = deque()  # chains with messages and no worker yet
        # A handler per message and no order to keep: one queue any worker takes from, of
        # each fetch's records of a partition; the first run's next record is _loose_next.
        self._loose: deque[tuple[_PartitionState, list[ConsumerRecord[bytes, bytes]]]] = deque()
        self._loose_next = 0
        self._loose_mode = handler is not None and ordering == "none"
        # Idle workers, each waiting on its own future. Work wakes one; a worker about to
        # call a handler wakes the next while work waits, so a handler that awaits lets
        # another worker go on, and handlers that never await wake no one needlessly.
        self._idle: deque[asyncio.Future[None]] = deque()
        self._current: dict[Hashable, int] = {}  # chain -> how many of it are in a handler
        self._buffered = 0
        self._resume_at = max_buffered // 2  # fetching, once paused, resumes at this many
        self._room = asyncio.Event()  # the handlers took the buffer down to _resume_at
        self._stopping = asyncio.Event()
        self._commit_due = asyncio.Event()
        self._since_commit = 0
        self._commit_every = max(1, batch_size // 2)
        self._one_done = asyncio.Event()  # a handler finished (shutdown and rebalance wait)
        self._idle_waiters = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

    # --- life cycle -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop fetching; ``run()`` then finishes in-flight work, commits, and returns."""
        self._stopping.set()

    async def run(self, *, handle_signals: bool = False) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            **self.consumer_options,
        )
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self.producer_options)
        self._consumer, self._producer = consumer, producer
        loop = asyncio.get_running_loop()
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop)
        await producer.start()
        workers: list[asyncio.Task[None]] = []
        try:
            await consumer.start()
            consumer.subscribe(self.topics, listener=_Revoked(self))
            workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
            committer = asyncio.create_task(self._commit_every_interval())
            try:
                await self._fetch()
            finally:
                committer.cancel()
                await self._drain()
                with contextlib.suppress(Exception):  # the group may already be gone
                    await self._commit()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if handle_signals:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
            await consumer.stop()  # leaves the group
            await producer.stop()

    async def _drain(self) -> None:
        """Drop what waits in the buffer (it is not committed, so it comes again), and give
        what is in a handler ``shutdown_deadline_s`` to finish."""
        self._drop_waiting(list(self._chains))
        self._drop_loose(None)
        await self._until_idle(None)

    async def _until_idle(self, partitions: set[TopicPartition] | None) -> None:
        """Until no handler works on ``partitions`` (all: None), at most the deadline."""

        def busy() -> bool:
            found = self._partitions
            if partitions is None:
                return any(part.in_hand for part in found.values())
            return any(found[tp].in_hand for tp in partitions if tp in found)

        deadline = time.monotonic() + self.shutdown_deadline_s
        self._idle_waiters += 1
        try:
            while busy() and (left := deadline - time.monotonic()) > 0:
                self._one_done.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._one_done.wait(), left)
        finally:
            self._idle_waiters -= 1

    # --- fetching -------------------------------------------------------------------------

    async def _fetch(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        paused = False
        while not self._stopping.is_set():
            if self._buffered >= self.max_buffered and not paused:
                consumer.pause(*consumer.assignment())
                paused = True
                self.stats.paused += 1
            if paused and self._buffered > self._resume_at:
                # Wait for the handlers to make room, at most 100 ms: a paused getmany would
                # wait out its whole timeout, however soon there is room.
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), 0.1)
            if paused and self._buffered <= self._resume_at:
                consumer.resume(*consumer.paused())
                paused = False
            # getmany keeps being called while paused: that is what keeps this member in
            # the group however slow the handlers are (max_poll_interval_ms).
            batches = await consumer.getmany(
                timeout_ms=0 if paused else 100, max_records=self.batch_size
            )
            for tp, records in batches.items():
                part = self._partitions.get(tp)
                if part is None:
                    part = self._partitions[tp] = _PartitionState()
                if part.offsets is None:
                    part.offsets = self._offsets[tp] = PartitionOffsets()
                part.offsets.fetched_run([record.offset for record in records])
                if self._loose_mode:
                    self._loose.append((part, records))
                    self._buffered += len(records)
                elif self.batch_handler is not None:  # a partition's records go as one run
                    chunk = (tp, records[0].offset) if self.ordering == "none" else tp
                    self._enqueue_run(chunk, records)
                else:
                    for record in records:
                        self._enqueue(tp, record)
                self.stats.consumed += len(records)
            if self._ready or self._loose:
                self._wake_one()

    def _chain_of(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> Hashable:
        if self.ordering == "partition":
            whole: Hashable = tp
            return whole
        key: Hashable = record.key
        if key is not None:
            return (tp, key)
        return (tp, record.offset)  # no key, so no order to keep: a chain of its own

    def _enqueue_run(self, chain_id: Hashable, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Batches: a partition's chain (or, with no order to keep, the fetched chunk's own)
        gains the fetch's records at once."""
        chain = self._chains.get(chain_id)
        if chain is None:
            chain = self._chains[chain_id] = deque()
            self._ready.append(chain_id)
        chain.extend(records)
        self._buffered += len(records)

    def _enqueue(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        chain_id = self._chain_of(tp, record)
        chain = self._chains.get(chain_id)
        if chain is None:
            chain = self._chains[chain_id] = deque()
            self._ready.append(chain_id)  # a new chain: a worker will pick it up
        chain.append(record)
        self._buffered += 1

    # --- handling -------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            if self._loose:
                await self._work_loose()
            elif self._ready:
                await self._work_chain(self._ready.popleft())
            else:
                idle = asyncio.get_running_loop().create_future()
                self._idle.append(idle)
                await idle

    def _wake_one(self) -> None:
        idle = self._idle
        while idle:
            worker = idle.popleft()
            if not worker.done():  # a cancelled worker's is
                worker.set_result(None)
                return

    async def _work_loose(self) -> None:
        """A handler per message, no order to keep: take the next message, whichever
        partition it is from, until none waits. The hot path, so written out flat: a
        message that fails goes on in ``_handle_failed``."""
        loose, idle = self._loose, self._idle
        handler, decode, stats, clock = self.handler, self.decode, self.stats, time.perf_counter
        assert handler is not None
        while loose:
            part, records = loose[0]
            taken = self._loose_next
            record = records[taken]
            if taken + 1 == len(records):
                loose.popleft()
                self._loose_next = 0
            else:
                self._loose_next = taken + 1
            if loose and idle:
                self._wake_one()
            part.in_hand += 1
            began, value = clock(), _UNREAD
            try:
                value = decode(record.value)
                message: Message = _new_message(Message, (
                    record.topic, record.partition, record.offset, record.key, value,
                    tuple(record.headers), record.timestamp, 1))  # fmt: skip
                await handler(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await self._handle_failed(record, value, error, began)
            else:
                stats.handled += 1
                stats.handle_seconds.observe(clock() - began)
            finally:
                part.in_hand -= 1
                if self._idle_waiters:
                    self._one_done.set()
            self._buffered -= 1
            if self._buffered == self._resume_at:
                self._room.set()
            offsets = part.offsets  # None once the partition was given back
            if offsets is not None:
                offsets.finished(record.offset)
            self._since_commit += 1
            if self._since_commit == self._commit_every:  # once, until the commit resets it
                self._commit_due.set()

    async def _work_chain(self, chain_id: Hashable) -> None:
        """A chain's messages one after another (or a batch at a time), then forget it."""
        chain = self._chains.get(chain_id)
        if not chain:
            self._chains.pop(chain_id, None)
            return
        batched = self.batch_handler is not None
        part = self._partitions[_partition(chain[0])]  # a chain holds one partition's records
        while chain:
            if self._ready and self._idle:
                self._wake_one()
            if batched:
                records = list(islice(chain, self.batch_size))
                taken = len(records)
            else:
                record, taken = chain[0], 1
            self._current[chain_id] = taken
            part.in_hand += taken
            try:
                await (self._handle(records) if batched else self._handle_one(record))
            finally:
                part.in_hand -= taken
                del self._current[chain_id]
                if self._idle_waiters:
                    self._one_done.set()
            offsets = part.offsets  # None once the partition was given back
            if batched:
                for _ in range(taken):
                    chain.popleft()
                if offsets is not None:
                    offsets.finished_run([record.offset for record in records])
            else:
                chain.popleft()
                if offsets is not None:
                    offsets.finished(record.offset)
            self._unbuffer(taken)
            self._since_commit += taken
            if self._since_commit - taken < self._commit_every <= self._since_commit:
                self._commit_due.set()
        self._chains.pop(chain_id, None)

    def _drop_waiting(self, chain_ids: list[Hashable]) -> None:
        """Forget messages not yet in a handler (never committed, so they come again)."""
        for chain_id in chain_ids:
            chain = self._chains[chain_id]
            keep = self._current.get(chain_id, 0)  # its worker pops the ones in a handler
            dropped = len(chain) - keep
            for _ in range(dropped):
                chain.pop()
            self._unbuffer(dropped)

    def _drop_loose(self, partitions: set[TopicPartition] | None) -> None:
        """The same for the queue of messages with no order to keep (all: None). Workers
        hold the queue itself, so it is changed in place."""
        kept, dropped = [], 0
        for index, (part, records) in enumerate(self._loose):
            waiting = records[self._loose_next :] if index == 0 else records
            if partitions is None or _partition(waiting[0]) in partitions:
                dropped += len(waiting)
            else:
                kept.append((part, waiting))
        self._unbuffer(dropped)
        self._loose.clear()
        self._loose.extend(kept)
        self._loose_next = 0

    def _unbuffer(self, count: int) -> None:
        """``count`` messages left the buffer: wake a paused fetch if there is room now."""
        self._buffered -= count
        if self._buffered <= self._resume_at < self._buffered + count:
            self._room.set()

    async def _handle_one(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """The handler over one record: ``_handle`` for a run of one, without the lists."""
        assert self.handler is not None
        began, value = time.perf_counter(), _UNREAD
        try:
            value = self.decode(record.value)
            await self.handler(_new_message(Message, (
                record.topic, record.partition, record.offset, record.key, value,
                tuple(record.headers), record.timestamp, 1)))  # fmt: skip
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._handle_failed(record, value, error, began)
            return
        self.stats.handled += 1
        self.stats.handle_seconds.observe(time.perf_counter() - began)

    async def _handle_failed(
        self, record: ConsumerRecord[bytes, bytes], value: Any, error: Exception, began: float
    ) -> None:
        """After a message's first attempt failed: one that could not be decoded
        (``value`` is still ``_UNREAD``) goes to the dead-letter topic at once; a handler's
        failure is retried from the second attempt."""
        readable = [(record, value)]
        if value is _UNREAD:  # a poison record: no handler can read it
            self.stats.undecodable += 1
            await self._dead_letter(record, error, attempts=0)
        elif not await self._failed(readable, error, 1):
            await self._attempts(readable, began, 2)

    async def _handle(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """The batch handler over a run of one partition's records: a record that cannot be
        decoded goes to the dead-letter topic at once; the rest are tried together."""
        began = time.perf_counter()
        readable = []
        for record in records:
            try:
                readable.append((record, self.decode(record.value)))
            except Exception as error:  # a poison record: no handler can read it
                self.stats.undecodable += 1
                await self._dead_letter(record, error, attempts=0)
        if readable:
            await self._attempts(readable, began, 1)

    async def _attempts(
        self, readable: list[tuple[ConsumerRecord[bytes, bytes], Any]], began: float, attempt: int
    ) -> None:
        """Try the decoded records from ``attempt`` on, retried with backoff, and
        dead-lettered one by one once every attempt failed."""
        while True:
            messages = [_new_message(Message, (record.topic, record.partition, record.offset,
                                               record.key, value, tuple(record.headers),
                                               record.timestamp, attempt))
                        for record, value in readable]  # fmt: skip
            try:
                if self.batch_handler is not None:
                    await self.batch_handler(messages)
                else:
                    assert self.handler is not None
                    await self.handler(messages[0])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if await self._failed(readable, error, attempt):
                    return
                attempt += 1
                continue
            self.stats.handled += len(messages)
            self.stats.handle_seconds.observe(time.perf_counter() - began)  # a call's worth
            return

    async def _failed(
        self, readable: list[tuple[ConsumerRecord[bytes, bytes], Any]], error: Exception,
        attempt: int,
    ) -> bool:  # fmt: skip
        """After a failed attempt: dead-letter the records if it was the last (True), or
        wait the backoff before the next (False)."""
        if attempt >= self.retry.max_attempts:
            for record, _ in readable:
                await self._dead_letter(record, error, attempts=attempt)
            return True
        await asyncio.sleep(self.retry.wait_s(attempt, self._rng))
        self.stats.retried += 1
        return False

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, attempts: int
    ) -> None:
        """Send to the dead-letter topic and wait for the ack; retried until it is taken or
        the processor stops (then the record is not finished, so not committed)."""
        assert self._producer is not None
        topic = self.dead_letter_topic or f"{record.topic}.dlq"
        headers = dead_letter_headers(
            record.headers,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error,
            attempts=attempts,
        )
        failures = 0
        while True:
            try:
                await self._producer.send_and_wait(
                    topic, record.value, key=record.key, headers=headers
                )
                self.stats.dead_lettered += 1
                return
            except Exception:
                failures += 1
                if self._stopping.is_set():
                    raise
                await asyncio.sleep(self.retry.wait_s(failures, self._rng))

    # --- committing -----------------------------------------------------------------------

    async def _commit_every_interval(self) -> None:
        """Commit every ``commit_interval_s``, or sooner once half a batch has finished: a
        crash then repeats at most about one batch (what finished since the last commit)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._commit_due.wait(), self.commit_interval_s)
            self._commit_due.clear()
            self._since_commit = 0
            try:
                await self._commit()
            except Exception:  # a rebalance in progress, say: the next round retries
                self.stats.commit_failures += 1

    async def _commit(self, partitions: set[TopicPartition] | None = None) -> None:
        consumer = self._consumer
        assert consumer is not None
        points = {}
        for tp, offsets in self._offsets.items():
            if partitions is not None and tp not in partitions:
                continue
            point = offsets.commit_point()
            if point is not None:
                points[tp] = point
        if not points:
            return
        began = time.perf_counter()
        await consumer.commit(points)
        self.stats.commit_seconds.observe(time.perf_counter() - began)
        self.stats.commits += 1
        for tp, point in points.items():
            self._offsets[tp].committed = point

    async def _give_back(self, revoked: set[TopicPartition]) -> None:
        """Before partitions go to another member: drop their waiting messages, let their
        handlers finish (within the deadline), commit what is done, forget them."""
        self._drop_waiting(
            [
                chain_id
                for chain_id, chain in self._chains.items()
                if chain and _partition(chain[0]) in revoked
            ]
        )
        self._drop_loose(revoked)
        await self._until_idle(revoked)
        with contextlib.suppress(Exception):
            await self._commit(revoked)
        for tp in revoked:
            self._offsets.pop(tp, None)
            if tp in self._partitions:
                self._partitions[tp].offsets = None

    # --- lag ------------------------------------------------------------------------------

    def lag(self) -> dict[TopicPartition, int]:
        """Per assigned partition: the high watermark minus what is committed."""
        consumer = self._consumer
        if consumer is None:
            return {}
        found = {}
        for tp, offsets in self._offsets.items():
            high = consumer.highwater(tp)
            if high is not None:
                found[tp] = high - (offsets.committed or 0)
        return found
