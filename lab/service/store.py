"""The service's data: users and posts in PostgreSQL, through a pool or (naive) a new
connection per request, with every query built by the safe query builder and counted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from lab.patterns.pool import DatabasePool
from lab.patterns.query import build_select, keyset_page
from lab.patterns.schema import SEED_INDEXES, create_dataset, ensure_index

__all__ = ["EMAIL_KEY", "StoreCounters", "UserStore"]

logger = logging.getLogger(__name__)

_USER_FIELDS = ["id", "email", "name", "created_at"]
_POST_FIELDS = ["id", "title", "status", "created_at"]
_POST_ORDER: list[str | tuple[str, str]] = [("created_at", "DESC"), ("id", "DESC")]
#: The service's own index: one user's posts, newest first (keyset pages walk it).
SERVICE_INDEX = ("idx_posts_user_created", "posts", ("user_id", "created_at DESC", "id DESC"))
#: One user per email, whatever its case: two registrations of one address cannot both win.
EMAIL_KEY = "lab_service_users_email_key"
_EMAIL_KEY_DDL = f"CREATE UNIQUE INDEX {EMAIL_KEY} ON users (lower(email))"
#: Users registered with an email taken before the key existed: kept, out of ``users``.
_DUPLICATES_DDL = """CREATE TABLE IF NOT EXISTS lab_service_duplicate_users (
    id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,
    created_at timestamptz NOT NULL, kept_id bigint NOT NULL,
    moved_at timestamptz NOT NULL DEFAULT now())"""
_MOVE_DUPLICATES = """WITH ranked AS (
    SELECT id, min(id) OVER (PARTITION BY lower(email)) AS kept_id FROM users),
moved AS (
    DELETE FROM users USING ranked
    WHERE users.id = ranked.id AND ranked.id <> ranked.kept_id
    RETURNING users.id, users.email, users.name, users.created_at, ranked.kept_id)
INSERT INTO lab_service_duplicate_users (id, email, name, created_at, kept_id)
SELECT * FROM moved"""


#: The advisory lock ``prepare`` holds (an arbitrary key: "lab" in ASCII).
_PREPARE_LOCK = 0x6C6162


@dataclass
class StoreCounters:
    queries: int = 0
    connections_opened: int = 0  # by the naive path; the pool counts its own


def _json_row(record: asyncpg.Record) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in record.items()}  # fmt: skip


async def _ensure_email_key(pool: DatabasePool) -> int:
    """The unique email index, built once. Users registered twice before it existed (the
    service allowed it until then) move to ``lab_service_duplicate_users``, the first of
    each address staying: nothing is deleted. One transaction, so no registration slips a
    duplicate in between. Returns how many moved."""
    if await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", EMAIL_KEY):
        return 0
    async with pool.transaction() as connection:
        await connection.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        await connection.execute(_DUPLICATES_DDL)
        moved = await connection.execute(_MOVE_DUPLICATES)
        await connection.execute(_EMAIL_KEY_DDL)
    count = int(moved.rsplit(" ", 1)[-1])
    if count:
        logger.warning(
            "moved %d users registered with a taken email to "
            "lab_service_duplicate_users: emails are unique now",
            count,
        )
    return count


class UserStore:
    """``pool=None`` is the naive service: every call opens and closes a connection."""

    def __init__(self, dsn: str, pool: DatabasePool | None) -> None:
        self.dsn = dsn
        self.pool = pool
        self.counters = StoreCounters()

    @asynccontextmanager
    async def connection(self, counted: bool = True) -> AsyncIterator[asyncpg.Connection]:
        """A connection from the pool, or a new one; ``counted=False`` for the service's
        own bookkeeping (health, statistics), which is not request work."""
        self.counters.queries += counted
        if self.pool is not None:
            async with self.pool.acquire() as connection:
                yield connection
            return
        self.counters.connections_opened += counted
        connection = await asyncpg.connect(self.dsn)
        try:
            yield connection
        finally:
            await connection.close()

    @asynccontextmanager
    async def _admin_pool(self) -> AsyncIterator[DatabasePool]:
        if self.pool is not None:
            yield self.pool
            return
        pool = await DatabasePool(self.dsn, min_size=1, max_size=2).open()
        try:
            yield pool
        finally:
            await pool.close()

    async def prepare(self, users: int, posts: int) -> None:
        """Create the dataset when its tables are missing or hold fewer users than
        ``users`` (a service asked for ids up to 10,000 on a dataset another run seeded
        with 2,000 answered 16 % of a Zipf mix with 404s), the seed's indexes and the
        service's own, and the sequence new users take their ids from. Services starting
        together (workers, or a test beside a service) prepare one at a time: each would
        otherwise drop and re-create the other's tables."""
        guard = await asyncpg.connect(self.dsn)
        try:  # a session lock: closing the connection releases it, whatever happens
            # Tried, not waited for in one statement: a waiting statement holds a snapshot,
            # and the holder's CREATE INDEX CONCURRENTLY would wait for it in turn.
            while True:  # another process's lock: no event to wait on, so tried again
                if await guard.fetchval("SELECT pg_try_advisory_lock($1)", _PREPARE_LOCK):
                    break
                await asyncio.sleep(0.1)
            await self._prepare(users, posts)
        finally:
            await guard.close()

    async def _prepare(self, users: int, posts: int) -> None:
        async with self._admin_pool() as pool:
            if not await _has_users(pool, users):
                await create_dataset(pool, users=users, posts=posts, seed=0)
                for name, table, columns in SEED_INDEXES:
                    await ensure_index(pool, name, table, columns)
            # a dataset made before posts had the document's content column gets it, empty
            await pool.execute("ALTER TABLE posts ADD COLUMN IF NOT EXISTS content text "
                               "NOT NULL DEFAULT ''")  # fmt: skip
            await ensure_index(pool, *SERVICE_INDEX)
            await _ensure_email_key(pool)
            await pool.execute("CREATE SEQUENCE IF NOT EXISTS lab_service_user_ids")
            await pool.execute(
                "SELECT setval('lab_service_user_ids', GREATEST((SELECT coalesce(max(id), 0) "
                "FROM users), (SELECT last_value FROM lab_service_user_ids)))"
            )

    async def user(self, user_id: int) -> dict[str, Any] | None:
        sql, params = build_select("users", _USER_FIELDS, where={"id": user_id})
        async with self.connection() as connection:
            row = await connection.fetchrow(sql, *params)
        return _json_row(row) if row is not None else None

    async def users_after(self, after: int, *, limit: int) -> list[dict[str, Any]]:
        """A keyset page of users: the ``limit`` with the smallest ids above ``after``."""
        sql, params = keyset_page("users", order_by=["id"], limit=limit, after=(after,),
                                  fields=_USER_FIELDS)  # fmt: skip
        async with self.connection() as connection:
            return [_json_row(row) for row in await connection.fetch(sql, *params)]

    async def posts(self, user_id: int, *, page: int, per_page: int) -> list[dict[str, Any]]:
        sql, params = build_select("posts", _POST_FIELDS, where={"user_id": user_id},
                                   order_by=_POST_ORDER, limit=per_page,
                                   offset=(page - 1) * per_page)  # fmt: skip
        async with self.connection() as connection:
            return [_json_row(row) for row in await connection.fetch(sql, *params)]

    async def posts_after(self, user_id: int, after: tuple[datetime, int] | None, *,
                          per_page: int) -> list[dict[str, Any]]:  # fmt: skip
        """A keyset page: the posts older than ``after`` (created_at, id)."""
        sql, params = keyset_page("posts", order_by=_POST_ORDER, limit=per_page, after=after,
                                  fields=_POST_FIELDS, where={"user_id": user_id})  # fmt: skip
        async with self.connection() as connection:
            return [_json_row(row) for row in await connection.fetch(sql, *params)]

    async def connections_percent(self) -> float:
        """PostgreSQL connections open, as a share of ``max_connections`` (the SLO's line)."""
        async with self.connection(counted=False) as connection:
            row = await connection.fetchrow(
                "SELECT count(*) AS open, current_setting('max_connections')::int AS most "
                "FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
        return 100.0 * float(row["open"]) / float(row["most"])

    async def healthy(self) -> tuple[bool, str]:
        try:
            async with self.connection(counted=False) as connection:
                await connection.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError) as error:
            return False, f"postgres: {error}"
        return True, "postgres: ok"


async def _has_users(pool: DatabasePool, users: int) -> bool:
    """The dataset's tables are there, with seeded users 1 to ``users`` (the seed numbers
    them from 1; registrations take ids after the largest)."""
    if not await pool.fetchval("SELECT to_regclass('public.posts') IS NOT NULL"):
        return False
    seeded = await pool.fetchval("SELECT count(*) FROM users WHERE id <= $1", users)
    return bool(seeded == users)
