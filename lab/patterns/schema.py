"""The schema of users and posts, a deterministic dataset loaded with COPY, and index
creation done right: ``CREATE INDEX CONCURRENTLY`` outside any transaction, idempotent
(an INVALID leftover from an interrupted build is dropped and rebuilt), ``ANALYZE``
after, and the plan of a probe query before and after.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.patterns.pool import DatabasePool
from lab.patterns.query import quote_identifier

__all__ = [
    "SEED_INDEXES",
    "Dataset",
    "IndexReport",
    "Plan",
    "create_dataset",
    "drop_indexes",
    "ensure_index",
    "explain",
]

STATUSES = ("published", "draft", "hidden")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

_SCHEMA = """
CREATE TABLE users (
    id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE posts (
    id bigint PRIMARY KEY, user_id bigint NOT NULL, title text NOT NULL,
    content text NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL
);
"""

#: The indexes the lookups and pages need: (name, table, columns).
SEED_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("idx_users_email", "users", ("email",)),
    ("idx_posts_created_at", "posts", ("created_at DESC",)),
    ("idx_posts_user_id", "posts", ("user_id",)),
)


@dataclass(frozen=True)
class Dataset:
    users: int
    posts: int
    seed: int


def _users(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for user in range(1, count + 1):
        joined = EPOCH + timedelta(seconds=rng.randrange(365 * 86_400))
        yield user, f"user{user}@example.com", f"User {user}", joined


def _posts(count: int, users: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for post in range(1, count + 1):
        # a few prolific users: 30 % of posts by a Pareto-chosen author
        prolific = rng.random() < 0.3
        author = min(
            users, int(rng.paretovariate(1.2)) if prolific else rng.randrange(1, users + 1)
        )
        written = EPOCH + timedelta(seconds=rng.randrange(365 * 86_400))
        status = STATUSES[0] if rng.random() < 0.8 else rng.choice(STATUSES[1:])
        yield post, author, f"Post {post}", f"The text of post {post}.", status, written


async def create_dataset(
    pool: DatabasePool, *, users: int = 100_000, posts: int = 1_000_000, seed: int = 0
) -> Dataset:
    """Replace ``users`` and ``posts`` with a dataset that depends only on the arguments
    (no indexes but the primary keys: add them with ``ensure_index``)."""
    rng = random.Random(seed)
    async with pool.acquire() as connection:
        await connection.execute("DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS users;")
        await connection.execute(_SCHEMA)
        await connection.copy_records_to_table(
            "users", records=_users(users, rng), columns=["id", "email", "name", "created_at"]
        )
        await connection.copy_records_to_table(
            "posts",
            records=_posts(posts, users, rng),
            columns=["id", "user_id", "title", "content", "status", "created_at"],
        )
        await connection.execute("ANALYZE users; ANALYZE posts;")
    return Dataset(users, posts, seed)


@dataclass(frozen=True)
class Plan:
    text: str
    execution_ms: float
    uses_index: bool


_EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")


async def explain(pool: DatabasePool, sql: str, *params: Any) -> Plan:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of ``sql``: the plan text and its execution time."""
    async with pool.acquire() as connection:
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
    text = "\n".join(row[0] for row in rows)
    found = _EXECUTION.search(text)
    return Plan(
        text, float(found.group(1)) if found else float("nan"), "Index" in text or "Bitmap" in text
    )


@dataclass(frozen=True)
class IndexReport:
    name: str
    created: bool  # False: it was already there and valid
    rebuilt_invalid: bool
    before: Plan | None
    after: Plan | None


def _index_columns(columns: Sequence[str]) -> str:
    terms = []
    for column in columns:
        name, _, direction = column.partition(" ")
        direction = direction.strip().upper()
        if direction not in ("", "ASC", "DESC"):
            raise ValueError(f"index column direction must be ASC or DESC, not {direction!r}")
        terms.append(f"{quote_identifier(name, max_parts=1)} {direction}".rstrip())
    return ", ".join(terms)


async def ensure_index(
    pool: DatabasePool,
    name: str,
    table: str,
    columns: Sequence[str],
    *,
    probe: tuple[str, Sequence[Any]] | None = None,
    unique: bool = False,
) -> IndexReport:
    """Create the index unless a valid one exists; report the probe query's plan around it."""
    quoted = quote_identifier(name, max_parts=1)
    before = await explain(pool, probe[0], *probe[1]) if probe else None
    async with pool.acquire() as connection:  # no transaction: CONCURRENTLY refuses one
        valid = await connection.fetchval(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", name
        )
        rebuilt = valid is False
        if rebuilt:
            await connection.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
        await connection.execute(
            f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY IF NOT EXISTS {quoted} "
            f"ON {quote_identifier(table, max_parts=2)} ({_index_columns(columns)})"
        )
        await connection.execute(f"ANALYZE {quote_identifier(table, max_parts=2)}")
    after = await explain(pool, probe[0], *probe[1]) if probe else None
    return IndexReport(
        name, created=valid is None or rebuilt, rebuilt_invalid=rebuilt, before=before, after=after
    )


async def drop_indexes(pool: DatabasePool, *names: str) -> None:
    for name in names:
        await pool.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote_identifier(name)}")
