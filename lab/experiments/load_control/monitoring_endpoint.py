"""A minimal endpoint with or without request metrics, in its own process, so the load
generator's CPU is not the server's.

``python -m lab.experiments.load_control.monitoring_endpoint --stack aiohttp --variant
"metrics middleware"`` prints its URL on the first line, then answers ``GET /items/{id}``
with a few bytes of JSON (and serves ``/metrics``, and ``/__cpu``: its own CPU seconds)
until interrupted. The aiohttp variants (``VARIANTS``) record the same metrics in the
middleware chain, around the server's request handler (``record_requests``) or through
the access-log hook (``lab.patterns.monitoring_access_log``); ``--stack fastapi`` serves
the same on uvicorn, plain or with the ASGI middleware.
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

__all__ = ["CPU_PATH", "STACKS", "VARIANTS", "available_stacks", "endpoint_process", "main"]

STACKS = ("aiohttp", "fastapi")
#: The endpoint's variants, by stack, in the order the experiment starts them: without
#: metrics, with an empty middleware (what aiohttp charges for any), and each way of
#: recording the same metrics.
VARIANTS = {
    "aiohttp": ("plain", "empty middleware", "metrics middleware", "metrics server handler",
                "metrics access log"),
    "fastapi": ("plain", "metrics middleware"),
}  # fmt: skip
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


async def _aiohttp(variant: str) -> None:
    metrics = RequestMetrics()
    middlewares = {"metrics middleware": [aiohttp_metrics_middleware(metrics)],
                   "empty middleware": [_pass_through]}.get(variant, [])  # fmt: skip
    app = web.Application(middlewares=middlewares)

    async def item(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"]})

    async def cpu(request: web.Request) -> web.Response:
        return web.json_response({"cpu_s": time.process_time()})

    app.router.add_get("/items/{id}", item)
    app.router.add_get(CPU_PATH, cpu)
    app.router.add_get("/metrics", metrics_handler(metrics_registry(RequestCollector(metrics))))
    logged: dict[str, Any] = {"access_log": None}
    if variant == "metrics access log":  # recorded by aiohttp's access-log hook
        logged = {"access_log": ACCESS_LOG, "access_log_class": metrics_access_logger(metrics)}
    runner = web.AppRunner(app, **logged)
    await runner.setup()
    if variant == "metrics server handler":
        record_requests(runner, metrics)
    with stop_signals() as stop:
        await web.SockSite(runner, _listen()).start()
        await stop.wait()
    await runner.cleanup()


async def _fastapi(variant: str) -> None:
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
    app = MetricsASGIMiddleware(api, metrics) if variant == "metrics middleware" else api
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
def endpoint_process(stack: str, variant: str) -> Iterator[str]:
    """Start ``stack``'s endpoint as ``variant`` (one of ``VARIANTS[stack]``) in its own
    process; yields its base URL; stops it on exit."""
    if variant not in VARIANTS[stack]:
        raise ValueError(f"the {stack} endpoint is one of {', '.join(VARIANTS[stack])}")
    argv = [sys.executable, "-m", "lab.experiments.load_control.monitoring_endpoint",
            "--stack", stack, "--variant", variant]  # fmt: skip
    with url_process(argv, f"the {stack} endpoint ({variant})") as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", choices=STACKS, default="aiohttp")
    parser.add_argument("--variant", choices=VARIANTS["aiohttp"], default="plain",
                        help="fastapi has plain and metrics middleware only")  # fmt: skip
    args = parser.parse_args()
    if args.variant not in VARIANTS[args.stack]:
        parser.error(f"--stack {args.stack} takes --variant {' or '.join(VARIANTS[args.stack])}")
    serve = (_aiohttp if args.stack == "aiohttp" else _fastapi)(args.variant)
    try:
        import uvloop

        uvloop.run(serve)
    except ImportError:
        asyncio.run(serve)


if __name__ == "__main__":
    main()
