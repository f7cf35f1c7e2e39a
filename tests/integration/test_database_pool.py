"""DatabasePool and the query builder against the real PostgreSQL: stats count what
happened, timeouts are clear, killed and restarted servers are survived, and hostile
input never reaches SQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import string
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.config import endpoints
from lab.errors import PoolTimeoutError
from lab.harness.aio import new_runner
from lab.patterns.pool import DatabasePool
from lab.patterns.query import build_select, keyset_page
from lab.patterns.schema import ensure_index

TABLE = f"lab_pool_test_{os.getpid()}"


@pytest.fixture(params=["asyncpg", "lean"])
async def pool(postgres_up: None, request: pytest.FixtureRequest) -> AsyncIterator[DatabasePool]:
    async with DatabasePool(endpoints().postgres_dsn, min_size=1, max_size=4,
                            acquire_timeout_s=0.5, engine=request.param) as opened:  # fmt: skip
        await opened.execute(f'DROP TABLE IF EXISTS "{TABLE}"')
        await opened.execute(
            f'CREATE TABLE "{TABLE}" (id bigint PRIMARY KEY, user_id int NOT NULL, '
            "status text NOT NULL, created_at bigint NOT NULL)"
        )
        rows = [(i, i % 37, ("draft", "published", "hidden")[i % 3], 1_000 - i % 400)
                for i in range(1, 1001)]  # fmt: skip
        async with opened.acquire() as connection:
            await connection.copy_records_to_table(TABLE, records=rows)
        yield opened
        await opened.execute(f'DROP TABLE IF EXISTS "{TABLE}"')


async def test_stats_count_leases_and_utilization(pool: DatabasePool) -> None:
    before = pool.stats.acquisitions
    async with pool.acquire(), pool.acquire():
        assert pool.stats.in_use == 2 and pool.utilization == 0.5
    assert pool.stats.in_use == 0
    await asyncio.gather(*(pool.fetchval("SELECT 1") for _ in range(20)))
    assert pool.stats.acquisitions - before == 22
    assert pool.stats.acquire_wait.count == pool.stats.acquisitions
    assert pool.stats.max_waiting >= 16  # 20 callers, 4 connections


async def test_acquire_timeout_raises_the_clear_error(pool: DatabasePool) -> None:
    leases = [pool.acquire() for _ in range(4)]
    for lease in leases:
        await lease.__aenter__()
    try:
        with pytest.raises(PoolTimeoutError, match="4 of 4 in use"):
            await pool.fetchval("SELECT 1")
        assert pool.stats.timeouts == 1
    finally:
        for lease in leases:
            await lease.__aexit__(None, None, None)
    assert await pool.fetchval("SELECT 2") == 2


async def test_transaction_commits_or_rolls_back(pool: DatabasePool) -> None:
    async with pool.transaction() as connection:
        await connection.execute(f'DELETE FROM "{TABLE}" WHERE id = 1')
    with pytest.raises(ZeroDivisionError):
        async with pool.transaction() as connection:
            await connection.execute(f'DELETE FROM "{TABLE}" WHERE id = 2')
            raise ZeroDivisionError
    assert await pool.fetchval(f'SELECT count(*) FROM "{TABLE}" WHERE id IN (1, 2)') == 1


async def test_a_terminated_backend_is_replaced(pool: DatabasePool) -> None:
    async with pool.acquire() as connection:
        pid = await connection.fetchval("SELECT pg_backend_pid()")
    async with DatabasePool(endpoints().postgres_dsn, min_size=0, max_size=1) as admin:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid) is True
    failures = 0
    for _ in range(pool.max_size + 1):  # the dead one may be leased once, then replaced
        try:
            assert await pool.fetchval("SELECT 1") == 1
        except (asyncpg.exceptions.AdminShutdownError, asyncpg.ConnectionDoesNotExistError,
                asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError):  # fmt: skip
            failures += 1
    assert failures <= 1 and pool.stats.connections_lost == failures
    assert await pool.fetchval("SELECT 1") == 1


async def test_lean_engine_limits_retires_and_trims(postgres_up: None) -> None:
    async with DatabasePool(endpoints().postgres_dsn, min_size=1, max_size=3, engine="lean",
                            max_queries=5, max_inactive_connection_lifetime=0.0,
                            reset="none") as pool:  # fmt: skip
        pids = [await pool.fetchval("SELECT pg_backend_pid()") for _ in range(12)]
        assert len(set(pids)) >= 3  # retired after 5 leases each: new backends
        results = await asyncio.gather(*(pool.fetchval("SELECT pg_sleep(0.02)") for _ in range(9)))
        assert len(results) == 9 and pool.raw.get_size() <= 3
        assert pool.raw.get_idle_size() == 1  # idle beyond min_size were closed at once


async def test_reset_full_clears_session_state_and_none_keeps_it(postgres_up: None) -> None:
    for engine in ("asyncpg", "lean"):
        for reset, kept in (("full", False), ("none", True)):
            async with DatabasePool(endpoints().postgres_dsn, min_size=1, max_size=1,
                                    engine=engine, reset=reset) as pool:  # type: ignore[arg-type]  # fmt: skip
                await pool.execute("SET work_mem = '7777kB'")
                assert (await pool.fetchval("SHOW work_mem") == "7777kB") is kept, (engine, reset)


@pytest.mark.parametrize("engine", ["asyncpg", "lean"])
async def test_no_reset_still_ends_a_transaction_left_open(postgres_up: None, engine: str) -> None:
    async with DatabasePool(endpoints().postgres_dsn, min_size=1, max_size=1, engine=engine,  # type: ignore[arg-type]
                            reset="none") as pool:  # fmt: skip
        async with pool.acquire() as connection:
            await connection.execute("BEGIN")
            await connection.execute("SET LOCAL work_mem = '7777kB'")
            first = await connection.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") == first  # the same one
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SHOW work_mem") != "7777kB"


async def test_index_creation_is_idempotent_and_rebuilds_an_invalid_leftover(
    pool: DatabasePool,
) -> None:
    name = f"{TABLE}_user_idx"
    probe = (f'SELECT id FROM "{TABLE}" WHERE user_id = $1', [5])
    first = await ensure_index(pool, name, TABLE, ["user_id"], probe=probe)
    again = await ensure_index(pool, name, TABLE, ["user_id"])
    assert first.created and not again.created and not again.rebuilt_invalid
    assert first.after is not None and "user_idx" in first.after.text
    await pool.execute(  # what an interrupted CREATE INDEX CONCURRENTLY leaves behind
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)", name
    )
    mended = await ensure_index(pool, name, TABLE, ["user_id"])
    assert mended.created and mended.rebuilt_invalid
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)"
    assert await pool.fetchval(valid, name) is True


async def test_health(pool: DatabasePool) -> None:
    assert await pool.health() == (True, "ok")
    closed = DatabasePool("postgresql://lab@127.0.0.1:1/none", min_size=0, max_size=1)
    healthy, detail = await closed.health()
    assert not healthy and "not open" in detail


async def test_any_returns_what_expanded_in_returns(pool: DatabasePool) -> None:
    wanted = [3, 5, 8, 13, 21, 34]
    sql, params = build_select(TABLE, fields=["id"], where={"user_id": wanted}, order_by=["id"])
    placeholders = ", ".join(f"${i + 1}" for i in range(len(wanted)))
    expanded = await pool.fetch(
        f'SELECT id FROM "{TABLE}" WHERE user_id IN ({placeholders}) ORDER BY id', *wanted
    )
    assert [r["id"] for r in await pool.fetch(sql, *params)] == [r["id"] for r in expanded]
    assert len(expanded) > 0


async def test_keyset_pages_equal_offset_pages(pool: DatabasePool) -> None:
    order = ["-created_at", "-id"]
    by_offset, by_keyset, after = [], [], None
    for page in range(12):
        sql, params = build_select(TABLE, fields=["id", "created_at"], order_by=order,
                                   limit=90, offset=page * 90)  # fmt: skip
        by_offset += [tuple(r) for r in await pool.fetch(sql, *params)]
        sql, params = keyset_page(TABLE, fields=["id", "created_at"], order_by=order,
                                  limit=90, after=after)  # fmt: skip
        rows = await pool.fetch(sql, *params)
        by_keyset += [tuple(r) for r in rows]
        if rows:
            after = (rows[-1]["created_at"], rows[-1]["id"])
    assert by_keyset == by_offset and len(by_offset) == 1000


# 2,000 hostile identifiers and values against PostgreSQL: refused or quoted, never
# executed as SQL (tests/unit/test_query_builder.py runs 10,000 without a server).
HOSTILE_TABLE = f"{TABLE}_h"
_HOSTILE = st.text(alphabet=string.printable + "\"'`;\\\x00ü", min_size=0, max_size=30)
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,2}")


@pytest.fixture(scope="module")
def hostile_runner(postgres_up: None) -> Iterator[tuple[Any, DatabasePool]]:
    with new_runner() as runner:
        pool = DatabasePool(endpoints().postgres_dsn, min_size=1, max_size=2)
        runner.run(pool.open())
        runner.run(pool.execute(f'DROP TABLE IF EXISTS "{HOSTILE_TABLE}"'))
        runner.run(pool.execute(f'CREATE TABLE "{HOSTILE_TABLE}" AS SELECT g AS id, '
                                "'x' AS status FROM generate_series(1, 50) g"))  # fmt: skip
        yield runner, pool
        assert runner.run(pool.fetchval(f'SELECT count(*) FROM "{HOSTILE_TABLE}"')) == 50
        runner.run(pool.execute(f'DROP TABLE "{HOSTILE_TABLE}"'))
        runner.run(pool.close())


@settings(
    max_examples=2_000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(identifier=_HOSTILE, value=_HOSTILE)
def test_hostile_input_never_changes_the_table(
    identifier: str, value: str, hostile_runner: tuple[Any, DatabasePool]
) -> None:
    runner, pool = hostile_runner
    sql, params = build_select(HOSTILE_TABLE, where={"status": value})
    assert sql == f'SELECT * FROM "{HOSTILE_TABLE}" WHERE "status" = $1' and params == [value]
    if "\x00" not in value:  # PostgreSQL text cannot hold NUL; asyncpg refuses it
        assert runner.run(pool.fetch(sql, *params)) == ([] if value != "x" else ANY_ROWS)
    column, _, direction = identifier.removeprefix("-").partition(" ")
    sortable = direction.strip().upper() in ("", "ASC", "DESC") and _PLAIN.fullmatch(column)
    for build, allowed in (
        (lambda: build_select(identifier), _PLAIN.fullmatch(identifier)),
        (lambda: build_select(HOSTILE_TABLE, fields=[identifier]), _PLAIN.fullmatch(identifier)),
        (lambda: build_select(HOSTILE_TABLE, where={identifier: value}),
         _PLAIN.fullmatch(identifier)),
        (lambda: build_select(HOSTILE_TABLE, order_by=[identifier]), sortable),
    ):  # fmt: skip
        try:
            sql, params = build()
        except ValueError:
            continue
        assert allowed, identifier  # only plain names (and a direction) get through
        with contextlib.suppress(asyncpg.PostgresError):  # unknown column: an error, no more
            runner.run(pool.fetch(sql, *params))


class _AnyRows(list):  # type: ignore[type-arg]
    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and len(other) == 50


ANY_ROWS = _AnyRows()
