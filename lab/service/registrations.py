"""``POST /api/users`` -> ``user.registered`` on Kafka, without losing an event when
Kafka is down: a transactional outbox.

The user row and an outbox row are written in one transaction; after the commit the event
is published and its outbox row deleted. If publishing fails (Kafka down, timeout), the
row stays, and the relay (every ``relay_interval_s``) publishes what is left, oldest
first. Delivery is at least once, keyed by user id; the consumer (the lab's
``KafkaBatchProcessor``, in this process) must be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from lab.errors import EmailTaken
from lab.patterns.messaging import KafkaBatchProcessor, Message, ProducerSettings
from lab.patterns.messaging.producer import make_producer
from lab.service.store import UserStore

__all__ = ["OUTBOX_DDL", "RegistrationCounters", "Registrations"]

OUTBOX_DDL = """CREATE TABLE IF NOT EXISTS lab_service_outbox (
    id bigserial PRIMARY KEY, topic text NOT NULL, key text NOT NULL,
    payload bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""

# ON CONFLICT waits for a concurrent insert of the same email to commit or roll back, so
# exactly one of two concurrent registrations inserts; the other finds the winner's row.
_INSERT_USER = (
    "INSERT INTO users (id, email, name, created_at) "
    "VALUES (nextval('lab_service_user_ids'), $1, $2, now()) "
    "ON CONFLICT ((lower(email))) DO NOTHING RETURNING id, email, name, created_at"
)
_USER_BY_EMAIL = "SELECT id FROM users WHERE lower(email) = lower($1)"


@dataclass
class RegistrationCounters:
    published: int = 0
    publish_failed: int = 0  # left in the outbox for the relay
    relayed: int = 0  # published by the relay
    handled: int = 0  # by this process's consumer
    #: the ids of the last users whose event this process handled (``/api/_stats``)
    handled_ids: deque[int] = field(default_factory=lambda: deque(maxlen=1_000))


class Registrations:
    def __init__(self, store: UserStore, bootstrap: str, topic: str, *, consume: bool,
                 group_id: str, relay_interval_s: float = 1.0,
                 publish_timeout_s: float = 5.0) -> None:  # fmt: skip
        self.store = store
        self.bootstrap = bootstrap
        self.topic = topic
        self.consume = consume
        self.group_id = group_id
        self.relay_interval_s = relay_interval_s
        self.publish_timeout_s = publish_timeout_s
        self.counters = RegistrationCounters()
        self.processor: KafkaBatchProcessor | None = None
        self._producer: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def _ensure_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(self.topic, 1, 1)])
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()

    async def start(self) -> None:
        async with self.store.connection() as connection:
            await connection.execute(OUTBOX_DDL)
        await self._ensure_topic()
        timeout_ms = int(self.publish_timeout_s * 1000)
        self._producer = make_producer(self.bootstrap, ProducerSettings(acks="all"),
                                       request_timeout_ms=timeout_ms)  # fmt: skip
        await self._producer.start()
        self._tasks.append(asyncio.create_task(self._relay(), name="outbox relay"))
        if self.consume:
            self.processor = KafkaBatchProcessor(self.bootstrap, [self.topic], self.group_id,
                                                 self._handle, concurrency=8)  # fmt: skip
            self._tasks.append(asyncio.create_task(self.processor.run(), name="registrations"))

    async def stop(self) -> None:
        if self.processor is not None:
            self.processor.stop()
        for task in self._tasks:
            if task.get_name() == "outbox relay":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._producer is not None:
            await self._producer.stop()

    async def register(self, email: str, name: str) -> dict[str, Any]:
        """Write the user and its event in one transaction, then try to publish it.
        An email registered already (in any case) raises :class:`EmailTaken`, with no
        event: the unique index decides between two concurrent registrations."""
        async with self.store.connection() as connection, connection.transaction():
            row = await connection.fetchrow(_INSERT_USER, email, name)
            if row is None:  # the index kept the other registration; it has committed
                raise EmailTaken(await connection.fetchval(_USER_BY_EMAIL, email))
            user = {"id": row["id"], "email": row["email"], "name": row["name"],
                    "created_at": row["created_at"].isoformat()}  # fmt: skip
            payload = orjson.dumps({"type": "user.registered", "user": user})
            outbox_id = await connection.fetchval(
                "INSERT INTO lab_service_outbox (topic, key, payload) VALUES ($1, $2, $3) "
                "RETURNING id", self.topic, str(user["id"]), payload,
            )  # fmt: skip
        if await self._publish(str(user["id"]), payload):
            await self._delete(outbox_id)
            self.counters.published += 1
        else:
            self.counters.publish_failed += 1
        return user

    async def _publish(self, key: str, payload: bytes) -> bool:
        try:
            await asyncio.wait_for(self._producer.send_and_wait(self.topic, payload,
                                                                key=key.encode()),
                                   self.publish_timeout_s)  # fmt: skip
        except (KafkaError, TimeoutError):
            return False
        return True

    async def _delete(self, outbox_id: int) -> None:
        async with self.store.connection() as connection:
            await connection.execute("DELETE FROM lab_service_outbox WHERE id = $1", outbox_id)

    async def relay_once(self, limit: int = 100) -> int:
        """Publish what the outbox still holds, oldest first; stop at the first failure.
        Rows are claimed with ``FOR UPDATE SKIP LOCKED``: the relays of several workers
        (``lab serve --workers N``) never publish the same row at once."""
        sent = 0
        async with self.store.connection(counted=False) as connection, \
                connection.transaction():  # fmt: skip
            rows = await connection.fetch(
                "SELECT id, key, payload FROM lab_service_outbox WHERE topic = $1 "
                "AND created_at < now() - interval '1 second' ORDER BY id LIMIT $2 "
                "FOR UPDATE SKIP LOCKED", self.topic, limit,
            )  # fmt: skip
            for row in rows:
                if not await self._publish(row["key"], bytes(row["payload"])):
                    break
                await connection.execute("DELETE FROM lab_service_outbox WHERE id = $1",
                                         row["id"])  # fmt: skip
                sent += 1
        self.counters.relayed += sent
        return sent

    async def _relay(self) -> None:
        while True:
            await asyncio.sleep(self.relay_interval_s)
            with contextlib.suppress(OSError, KafkaError, TimeoutError):
                await self.relay_once()

    async def _handle(self, message: Message) -> None:
        self.counters.handled += 1
        self.counters.handled_ids.append(int(message.value["user"]["id"]))
