"""The reference API as a client meets it: one user per email (in any case), decided by a
unique index even when registrations race; the users registered twice before that index
existed kept, not deleted; and schemathesis, fuzzing a live ``lab serve`` from its own
``/openapi.json``, finds no 5xx, no answer the document does not describe, and no 4xx
without the JSON error."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from lab.config import endpoints
from lab.patterns.pool import DatabasePool
from lab.service.store import EMAIL_KEY, _ensure_email_key
from tests.integration.service_helpers import get_json, service_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(all_up: None) -> Iterator[str]:
    with service_process() as url:
        yield url


async def _register(session: aiohttp.ClientSession, base: str, email: str) -> tuple[int, dict]:
    async with session.post(f"{base}/api/users", json={"email": email, "name": "R"}) as answer:
        return answer.status, await answer.json()


async def test_a_taken_email_is_a_409_carrying_the_existing_users_id(base: str) -> None:
    email = f"taken.{uuid.uuid4().hex}@example.com"
    async with aiohttp.ClientSession() as session:
        status, first = await _register(session, base, email)
        assert status == 201
        for spelling in (email, email.upper()):
            status, again = await _register(session, base, spelling)
            assert status == 409 and again["user_id"] == first["id"], again
            assert "registered already" in again["error"]
        status, user = await get_json(session, f"{base}/api/users/{first['id']}")
        assert status == 200 and user["email"] == email


async def test_concurrent_registrations_of_one_email_make_one_user(base: str) -> None:
    email = f"race.{uuid.uuid4().hex}@example.com"
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(_register(session, base, email) for _ in range(24)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 23, statuses
    winner = next(body["id"] for status, body in answers if status == 201)
    assert {body["user_id"] for status, body in answers if status == 409} == {winner}
    connection = await asyncpg.connect(endpoints().postgres_dsn)
    try:
        rows = await connection.fetchval(
            "SELECT count(*) FROM users WHERE lower(email) = lower($1)", email
        )
        events = await connection.fetchval(
            "SELECT count(*) FROM lab_service_outbox WHERE payload::text LIKE $1",
            f"%{email}%",
        )
    finally:
        await connection.close()
    assert rows == 1 and events == 0  # one user; the losers wrote no event either


async def test_users_registered_twice_before_the_unique_index_move_aside() -> None:
    schema = f"lab_email_key_{os.getpid()}"
    admin = await asyncpg.connect(endpoints().postgres_dsn)
    try:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        await admin.execute(
            f"CREATE TABLE {schema}.users (id bigint PRIMARY KEY, email text NOT NULL, "
            "name text NOT NULL, created_at timestamptz NOT NULL)"
        )
        await admin.executemany(
            f"INSERT INTO {schema}.users VALUES ($1, $2, $3, now())",
            [(1, "a@x.org", "first"), (2, "b@x.org", "other"), (3, "A@x.org", "second"),
             (4, "a@x.org", "third")],
        )  # fmt: skip
        dsn = f"{endpoints().postgres_dsn}?search_path={schema}"  # asyncpg: a server setting
        async with DatabasePool(dsn, min_size=1, max_size=2) as pool:
            assert await _ensure_email_key(pool) == 2
            assert await _ensure_email_key(pool) == 0  # built once
        kept = await admin.fetch(f"SELECT id FROM {schema}.users ORDER BY id")
        moved = await admin.fetch(
            f"SELECT id, kept_id, name FROM {schema}.lab_service_duplicate_users ORDER BY id"
        )
        assert [row["id"] for row in kept] == [1, 2]
        assert [tuple(row) for row in moved] == [(3, 1, "second"), (4, 1, "third")]
        with pytest.raises(asyncpg.UniqueViolationError, match=EMAIL_KEY):
            await admin.execute(f"INSERT INTO {schema}.users VALUES (5, 'B@X.ORG', 'b', now())")
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


@pytest.mark.slow
def test_schemathesis_finds_nothing_against_the_document(base: str, tmp_path: Path) -> None:
    """Every phase (examples, coverage, fuzzing, stateful through the document's links),
    with the document's checks and the lab's own: a 4xx or 5xx carries a JSON error."""
    checks = ",".join((
        "not_a_server_error", "status_code_conformance", "content_type_conformance",
        "response_headers_conformance", "response_schema_conformance",
        "negative_data_rejection", "unsupported_method", "use_after_free",
        "ensure_resource_availability", "errors_are_json",
    ))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json",
         "--checks", checks, "--max-examples", "25", "--seed", "1", "--workers", "1",
         "--no-color", "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.schemathesis_checks"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout or "passed" in done.stdout, done.stdout[-3000:]
