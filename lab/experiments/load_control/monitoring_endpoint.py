"""A minimal endpoint with or without the request-metrics middleware, in its own process,
so the load generator's CPU is not the server's.

``python -m lab.experiments.load_control.monitoring_endpoint --stack aiohttp --metrics``
prints its URL on the first line, then answers ``GET /items/{id}`` with a few bytes of
JSON (and serves ``/metrics``, and ``/__cpu``: its own CPU seconds) until interrupted.
``--access-log`` records the same metrics through aiohttp's access-log hook instead of
the middleware (``lab.patterns.monitoring_access_log``); ``--server-handler`` around the
server's request handler (``record_requests``).
``--stack fastapi`` serves the same on uvicorn.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from lab.harness.aio import stop_signals
from lab.harness.url_process import url_process
from lab.patterns.monitoring import (
    MetricsASGIMiddleware,
    RequestCollector,
    RequestMetrics,
    aiohttp_metrics_middleware,
    metrics_asgi_app,
    metrics_handler,
    record_requests,
)
from lab.patterns.monitoring_access_log import ACCESS_LOG, metrics_access_logger
from lab.patterns.system_metrics import metrics_registry

__all__ = ["CPU_PATH", "STACKS", "available_stacks", "endpoint_process", "main"]

STACKS = ("aiohttp", "fastapi")
#: Answers the server process's CPU seconds so far, so a client can take the difference.
CPU_PATH = "/__cpu"


def _listen() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/ ", flush=True)
    return sock


@web.middleware
async def _pass_through(request: web.Request, handler: Any) -> web.StreamResponse:
    return await handler(request)  # type: ignore[no-any-return]


async def _aiohttp(with_metrics: bool, empty_middleware: bool = False, access_log: bool = False,
                   server_handler: bool = False) -> None:  # fmt: skip
    metrics = RequestMetrics()
    as_middleware = with_metrics and not access_log and not server_handler
    middlewares = [aiohttp_metrics_middleware(metrics)] if as_middleware else []
    if empty_middleware:  # what any middleware costs in aiohttp, to set the lab's against
        middlewares.append(_pass_through)
    app = web.Application(middlewares=middlewares)

    async def item(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"]})

    async def cpu(request: web.Request) -> web.Response:
        return web.json_response({"cpu_s": time.process_time()})

    app.router.add_get("/items/{id}", item)
    app.router.add_get(CPU_PATH, cpu)
    app.router.add_get("/metrics", metrics_handler(metrics_registry(RequestCollector(metrics))))
    logged: dict[str, Any] = {"access_log": None}
    if access_log:  # the same metrics, recorded by aiohttp's access-log hook
        logged = {"access_log": ACCESS_LOG, "access_log_class": metrics_access_logger(metrics)}
    runner = web.AppRunner(app, **logged)
    await runner.setup()
    if with_metrics and server_handler:
        record_requests(runner, metrics)
    with stop_signals() as stop:
        await web.SockSite(runner, _listen()).start()
        await stop.wait()
    await runner.cleanup()


async def _fastapi(with_metrics: bool) -> None:
    import uvicorn
    from fastapi import FastAPI

    api = FastAPI()
    metrics = RequestMetrics()

    @api.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @api.get(CPU_PATH)
    async def cpu() -> dict[str, float]:
        return {"cpu_s": time.process_time()}

    api.mount("/metrics", metrics_asgi_app(metrics_registry(RequestCollector(metrics))))
    app = MetricsASGIMiddleware(api, metrics) if with_metrics else api
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    await uvicorn.Server(config).serve(sockets=[_listen()])


def available_stacks() -> list[str]:
    """aiohttp always; FastAPI when the ``asgi`` extra (fastapi, uvicorn) is installed."""
    found = ["aiohttp"]
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return found
    return [*found, "fastapi"]


@contextmanager
def endpoint_process(
    stack: str,
    with_metrics: bool,
    empty_middleware: bool = False,
    access_log: bool = False,
    server_handler: bool = False,
) -> Iterator[str]:
    """Start the endpoint in its own process; yields its base URL; stops it on exit."""
    argv = [
        sys.executable,
        "-m",
        "lab.experiments.load_control.monitoring_endpoint",
        "--stack",
        stack,
    ]
    if with_metrics:
        argv.append("--metrics")
    if empty_middleware:
        argv.append("--empty-middleware")
    if access_log:
        argv.append("--access-log")
    if server_handler:
        argv.append("--server-handler")
    with url_process(argv, f"the {stack} endpoint") as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", choices=STACKS, default="aiohttp")
    parser.add_argument("--metrics", action="store_true")
    parser.add_argument("--empty-middleware", action="store_true", help="aiohttp only")
    parser.add_argument("--access-log", action="store_true",
                        help="aiohttp, with --metrics: record through the access log")  # fmt: skip
    parser.add_argument("--server-handler", action="store_true",
                        help="aiohttp, with --metrics: wrap the server's handler")  # fmt: skip
    args = parser.parse_args()
    if args.stack == "aiohttp":
        serve = _aiohttp(args.metrics, args.empty_middleware, args.access_log, args.server_handler)
    else:
        serve = _fastapi(args.metrics)
    try:
        import uvloop

        uvloop.run(serve)
    except ImportError:
        asyncio.run(serve)


if __name__ == "__main__":
    main()
