"""An aiohttp endpoint backed by a ``DatabasePool`` of a given size (or a connection per
request), run in a process of its own so the load generator's CPU is not the server's.

``python -m lab.experiments.database.endpoint --pool-size 8`` prints its URL on the first
line, then serves ``GET /users/{id}`` (a primary-key lookup) until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import orjson
from aiohttp import web

from lab.harness.aio import stop_signals
from lab.harness.url_process import url_process
from lab.patterns.pool import DatabasePool

__all__ = ["build_app", "endpoint_process", "main"]

_LOOKUP = "SELECT id, email, name FROM users WHERE id = $1"


def build_app(dsn: str, pool_size: int, reset: str, engine: str) -> web.Application:
    """``pool_size`` 0 means the naive service: a new connection for every request."""
    app = web.Application()
    pool = DatabasePool(dsn, min_size=pool_size, max_size=max(pool_size, 1),
                        reset=reset, engine=engine, acquire_timeout_s=30) if pool_size else None  # type: ignore[arg-type]  # fmt: skip

    async def user(request: web.Request) -> web.Response:
        try:
            user_id = int(request.match_info["id"])
        except ValueError:
            return web.json_response({"error": "id must be an integer"}, status=400)
        if pool is not None:
            row = await pool.fetchrow(_LOOKUP, user_id)
        else:
            connection = await asyncpg.connect(dsn)
            try:
                row = await connection.fetchrow(_LOOKUP, user_id)
            finally:
                await connection.close()
        if row is None:
            return web.json_response({"error": "no such user"}, status=404)
        return web.Response(body=orjson.dumps(dict(row)), content_type="application/json")

    async def lifecycle(app: web.Application) -> object:
        if pool is not None:
            await pool.open()
        yield
        if pool is not None:
            await pool.close()

    app.router.add_get("/users/{id}", user)
    app.cleanup_ctx.append(lifecycle)  # type: ignore[arg-type]
    return app


async def _serve(dsn: str, pool_size: int, reset: str, engine: str) -> None:
    runner = web.AppRunner(build_app(dsn, pool_size, reset, engine), access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    with stop_signals() as stop:
        print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/ ", flush=True)
        await stop.wait()
    await runner.cleanup()


@contextmanager
def endpoint_process(dsn: str, pool_size: int, reset: str = "full",
                     engine: str = "asyncpg") -> Iterator[str]:  # fmt: skip
    """Start the endpoint in its own process; yields its base URL; stops it on exit."""
    argv = [sys.executable, "-m", "lab.experiments.database.endpoint", "--dsn", dsn,
            "--pool-size", str(pool_size), "--reset", reset, "--engine", engine]  # fmt: skip
    with url_process(argv, "the database endpoint") as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--reset", choices=["full", "none"], default="full")
    parser.add_argument("--engine", choices=["asyncpg", "lean"], default="asyncpg")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(_serve(args.dsn, args.pool_size, args.reset, args.engine))
    except ImportError:
        asyncio.run(_serve(args.dsn, args.pool_size, args.reset, args.engine))


if __name__ == "__main__":
    main()
