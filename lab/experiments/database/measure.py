"""Database: the pool size a service wants (with a Universal Scalability Law fit), the
pool against ``pgbench -S`` at equal connections, what ``DatabasePool`` adds to asyncpg's
acquire+release, ``OFFSET`` against keyset pages, expanded ``IN`` against ``= ANY``, and
the seed's indexes proven by their plans.

Parts (the ``part`` column): ``pool_size``, ``vs_pgbench``, ``acquire``, ``pagination``,
``in_list``, ``indexes``. Speeds are compared within a repeat, never across runs.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import asyncpg
import pandas as pd

from lab.config import endpoints
from lab.errors import ServiceUnavailableError
from lab.experiments.baseline.measure import ensure_pgbench_tables
from lab.experiments.database.acquire_stages import acquire_bodies
from lab.experiments.database.endpoint import endpoint_process
from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.harness import native
from lab.harness.aio import new_runner, outside_event_loop
from lab.harness.loadgen import LoadSettings, run_load
from lab.harness.services import probe
from lab.patterns.pool import DatabasePool
from lab.patterns.query import build_select, keyset_page
from lab.patterns.schema import SEED_INDEXES, create_dataset, drop_indexes, ensure_index, explain

__all__ = ["SERVICES", "DatabaseSettings", "quick_settings", "run"]

SERVICES = ("postgres",)


@dataclass(frozen=True)
class DatabaseSettings:
    repeats: int = 3
    users: int = 100_000
    posts: int = 1_000_000
    pool_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    clients: tuple[int, ...] = (16, 64)  # closed-loop users against the endpoint
    load_s: float = 4.0
    pgbench_connections: int = 10
    pgbench_s: int = 4
    acquire_ops: int = 20_000
    page_size: int = 20
    page_depths: tuple[int, ...] = (1, 10, 100, 1_000, 10_000)
    in_lengths: tuple[int, ...] = (1, 10, 100, 1_000)
    in_queries: int = 300
    parts: tuple[str, ...] = ("indexes", "pagination", "in_list", "acquire", "vs_pgbench",
                              "pool_size")  # fmt: skip

    @classmethod
    def quick(cls) -> DatabaseSettings:
        return cls(
            repeats=2, users=10_000, posts=100_000, pool_sizes=(1, 4, 16, 64), load_s=1.5,
            clients=(64,),
            pgbench_s=2, acquire_ops=5_000, page_depths=(1, 100, 1_000), in_queries=100,
        )  # fmt: skip


# --- parts ------------------------------------------------------------------------------


async def _indexes(pool: DatabasePool, repeat: int) -> list[Row]:
    """The seed's queries before and after the seed's indexes."""
    queries: dict[str, tuple[str, list[Any]]] = {
        "user by email": ("SELECT id FROM users WHERE email = $1", ["user4242@example.com"]),
        "posts of a user, newest first": (
            "SELECT id, title FROM posts WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20",
            [4242]),
        "latest posts": ("SELECT id, title FROM posts ORDER BY created_at DESC LIMIT 20", []),
    }  # fmt: skip
    # the pagination part's index also serves "latest posts": drop it too for "before"
    await drop_indexes(pool, "idx_posts_created_at_id", *(name for name, _, _ in SEED_INDEXES))
    rows: list[Row] = []
    for phase in ("before", "after"):
        if phase == "after":
            for name, table, columns in SEED_INDEXES:
                await ensure_index(pool, name, table, columns)
        for query, (sql, params) in queries.items():
            await explain(pool, sql, *params)  # warm the buffers: compare plans, not disks
            plan = await explain(pool, sql, *params)
            rows.append({"part": "indexes", "repeat": repeat, "query": query, "phase": phase,
                         "execution_ms": plan.execution_ms, "uses_index": plan.uses_index,
                         "plan": plan.text.splitlines()[0].strip()})  # fmt: skip
    return rows


async def _timed(body: Callable[[], Awaitable[Any]], times: int) -> float:
    began = time.perf_counter()
    for _ in range(times):
        await body()
    return (time.perf_counter() - began) / times


def _fetcher(pool: DatabasePool, sql: str, params: list[Any]) -> Callable[[], Awaitable[Any]]:
    return lambda: pool.fetch(sql, *params)


async def _pagination(pool: DatabasePool, s: DatabaseSettings, repeat: int) -> list[Row]:
    await ensure_index(pool, "idx_posts_created_at_id", "posts", ["created_at DESC", "id DESC"])
    order = ["-created_at", "-id"]
    rows: list[Row] = []
    for depth in s.page_depths:
        offset = (depth - 1) * s.page_size
        if offset >= s.posts:
            continue
        by_offset = build_select("posts", fields=["id", "created_at", "title"],
                                 order_by=order, limit=s.page_size, offset=offset)  # fmt: skip
        previous = await pool.fetchrow(
            "SELECT created_at, id FROM posts ORDER BY created_at DESC, id DESC "
            "LIMIT 1 OFFSET $1", max(offset - 1, 0))  # fmt: skip
        after = None if depth == 1 or previous is None else tuple(previous)
        by_keyset = keyset_page("posts", fields=["id", "created_at", "title"],
                                order_by=order, limit=s.page_size, after=after)  # fmt: skip
        for method, (sql, params) in (("offset", by_offset), ("keyset", by_keyset)):
            seconds = await _timed(_fetcher(pool, sql, params), 20)
            rows.append({"part": "pagination", "repeat": repeat, "method": method,
                         "page": depth, "ms_per_page": seconds * 1000})  # fmt: skip
    return rows


async def _in_list(pool: DatabasePool, s: DatabaseSettings, repeat: int) -> list[Row]:
    rng = random.Random(repeat)
    rows: list[Row] = []
    for longest in s.in_lengths:
        lists = [[rng.randrange(1, s.posts) for _ in range(rng.randint(1, longest))]
                 for _ in range(s.in_queries)]  # fmt: skip
        async with pool.acquire() as connection:
            for form in ("expanded IN", "= ANY"):
                texts: set[str] = set()
                began = time.perf_counter()
                for ids in lists:
                    if form == "= ANY":
                        sql, params = build_select("posts", fields=["id"], where={"id": ids})
                    else:
                        marks = ", ".join(f"${i + 1}" for i in range(len(ids)))
                        sql, params = f"SELECT id FROM posts WHERE id IN ({marks})", ids
                    texts.add(sql)
                    await connection.fetch(sql, *params)
                elapsed = time.perf_counter() - began
                rows.append({"part": "in_list", "repeat": repeat, "form": form,
                             "max_length": longest, "distinct_statements": len(texts),
                             "ms_per_query": elapsed / len(lists) * 1000})  # fmt: skip
    return rows


async def _acquire(dsn: str, s: DatabaseSettings, repeat: int) -> list[Row]:
    """acquire+release with nothing in between: asyncpg's pool, ours around it and over
    the lean engine, and the stages between (``acquire_stages``). All release without a
    reset, so no round trip to the server hides what the wrapper costs."""
    rows: list[Row] = []
    raw = await asyncpg.create_pool(dsn, min_size=1, max_size=1, reset=_no_reset)
    ours = DatabasePool(dsn, min_size=1, max_size=1, reset="none")
    lean = DatabasePool(dsn, min_size=1, max_size=1, reset="none", engine="lean")
    await ours.open()
    await lean.open()
    try:
        bodies = list(acquire_bodies(raw, ours, lean).items())
        rounds = 5  # interleaved, each round in another order: a neighbour's noise hits all
        for round_ in range(rounds):
            for variant, body in bodies[round_ % len(bodies) :] + bodies[: round_ % len(bodies)]:
                seconds = await _timed(body, s.acquire_ops // rounds)
                rows.append({"part": "acquire", "repeat": repeat, "round": round_,
                             "variant": variant,
                             "us_per_acquire_release": seconds * 1e6})  # fmt: skip
    finally:
        await raw.close()
        await ours.close()
        await lean.close()
    return rows


async def _no_reset(connection: asyncpg.Connection) -> None:
    """asyncpg's pool releasing without its reset query."""


async def _pool_queries(dsn: str, connections: int, engine: str, reset: str,
                        seconds: float) -> float:  # fmt: skip
    """Queries per second: ``connections`` workers each running pgbench's -S query."""
    async with DatabasePool(dsn, min_size=connections, max_size=connections, reset=reset,  # type: ignore[arg-type]
                            engine=engine) as pool:  # type: ignore[arg-type]  # fmt: skip
        sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1"
        done = 0
        deadline = time.perf_counter() + seconds

        async def worker(seed: int) -> None:
            nonlocal done
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                await pool.fetchval(sql, rng.randint(1, 100_000))
                done += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        return done / (time.perf_counter() - began)


async def _vs_pgbench(s: DatabaseSettings, repeat: int) -> list[Row]:
    ep = endpoints()
    rows: list[Row] = []
    clients = s.pgbench_connections
    for engine in ("asyncpg", "lean"):
        for reset in ("full", "none"):
            rate = await _pool_queries(ep.postgres_dsn, clients, engine, reset, s.pgbench_s)
            rows.append({"part": "vs_pgbench", "repeat": repeat, "connections": clients,
                         "variant": f"DatabasePool {engine} reset={reset}",
                         "qps": rate})  # fmt: skip
    for protocol in ("simple", "prepared"):
        result = await asyncio.to_thread(
            native.pgbench, ep.postgres.host, ep.postgres.port, ep.postgres_user,
            ep.postgres_database, script="select-only", clients=clients, seconds=s.pgbench_s,
            protocol=protocol,
        )  # fmt: skip
        rows.append({"part": "vs_pgbench", "repeat": repeat, "variant": f"pgbench -S -M {protocol}",
                     "connections": clients, "qps": result.throughput_ops_s})  # fmt: skip
    return rows


async def _pool_size(s: DatabaseSettings, repeat: int) -> list[Row]:
    dsn = endpoints().postgres_dsn
    rows: list[Row] = []
    user = min(4242, s.users)  # one that exists: a 404 would be an error, and fast
    for size in (0, *s.pool_sizes):  # 0: the naive service, a connection per request
        with endpoint_process(dsn, size, reset="none", engine="lean") as url:
            for clients in s.clients:
                settings = LoadSettings(f"{url}users/{user}", mode="closed", users=clients,
                                        duration_s=s.load_s, timeout_s=30)  # fmt: skip
                await run_load(replace(settings, duration_s=0.3))  # warm: open the pool
                result = await run_load(settings)
                latency = result.latency_ms()
                rows.append({"part": "pool_size", "repeat": repeat,
                             "variant": "connection per request" if size == 0 else "pool",
                             "pool_size": size, "clients": clients,
                             "rps": result.achieved_rps, "p50_ms": latency["p50"],
                             "p99_ms": latency["p99"], "errors": result.errors})  # fmt: skip
    return rows


# --- the run ------------------------------------------------------------------------------


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: DatabaseSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Every part, ``repeats`` times, on a fresh dataset of ``users`` and ``posts``."""
    s = chosen_settings(DatabaseSettings, settings, quick)
    ep = endpoints()
    health = probe("postgres", ep)
    if not health.healthy:
        hint = "start it with `lab services up --only postgres`"
        raise ServiceUnavailableError("postgres", health.detail, hint)
    if "vs_pgbench" in s.parts:
        ensure_pgbench_tables(ep)

    async def load() -> None:
        async with DatabasePool(ep.postgres_dsn, min_size=1, max_size=2) as pool:
            await create_dataset(pool, users=s.users, posts=s.posts, seed=0)

    if progress:
        progress(f"database: loading {s.users:,} users and {s.posts:,} posts")
    with new_runner() as runner:
        runner.run(load())
    parts: dict[str, Part[DatabaseSettings]] = {part: partial(_part, part) for part in s.parts}
    return drive("database", s, s.parts, parts, progress)


async def _part(part: str, s: DatabaseSettings, repeat: int) -> list[Row]:
    dsn = endpoints().postgres_dsn
    if part == "acquire":
        return await _acquire(dsn, s, repeat)
    if part == "vs_pgbench":
        return await _vs_pgbench(s, repeat)
    if part == "pool_size":
        return await _pool_size(s, repeat)
    async with DatabasePool(dsn, min_size=1, max_size=2) as pool:
        if part == "indexes":
            return await _indexes(pool, repeat)
        if part == "pagination":
            return await _pagination(pool, s, repeat)
        if part == "in_list":
            return await _in_list(pool, s, repeat)
    raise ValueError(f"unknown part {part!r}")


def quick_settings(**changes: Any) -> DatabaseSettings:
    return replace(DatabaseSettings.quick(), **changes)
