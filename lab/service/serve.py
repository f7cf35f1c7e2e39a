"""Run the reference service until SIGINT or SIGTERM: the servers it needs are checked
first (a missing one is named, with how to start it), and a simulated followers service
is started beside it unless one is given."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from aiohttp import web

from lab.config import endpoints
from lab.errors import ConfigError, ServiceUnavailableError
from lab.harness.aio import stop_signals
from lab.harness.services.probes import PROBES
from lab.harness.services.prometheus_native import registered_target
from lab.harness.simulate import ServerModel
from lab.patterns.monitoring import record_requests
from lab.service.app import METRICS, build_app
from lab.service.followers import followers_server
from lab.service.settings import ServiceSettings

__all__ = ["check_servers", "serve"]


async def check_servers(settings: ServiceSettings) -> None:
    """Raise ``ServiceUnavailableError`` for the first server the settings need that is down."""
    needed = ["postgres", "kafka"] + (["redis"] if settings.cache else [])
    found = endpoints()
    for name in needed:
        health = await PROBES[name](found, 3.0)
        if not health.healthy:
            raise ServiceUnavailableError(name, health.detail)


async def serve(settings: ServiceSettings, *, host: str = "127.0.0.1", port: int = 8000,
                followers_model: ServerModel | None = None,
                ready: Callable[[str], None] = lambda line: print(line, flush=True),
                reuse_port: bool = False, multiprocess: bool = False) -> None:  # fmt: skip
    """``reuse_port`` and ``multiprocess``: this is one of ``lab serve --workers N``
    (:mod:`lab.service.workers`), which share the port and the metrics."""
    await check_servers(settings)
    followers = None
    followers_url = settings.followers_url
    if followers_url is None:
        followers = followers_server(followers_model)
        await followers.start()
        followers_url = followers.url
    app = build_app(settings, followers_url, multiprocess=multiprocess)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0,
                           handler_cancellation=settings.cancel_abandoned)  # fmt: skip
    await runner.setup()
    record_requests(runner, app[METRICS])
    try:
        site = web.TCPSite(runner, host, port, backlog=4096, reuse_port=reuse_port or None)
        try:
            await site.start()
        except OSError as error:
            raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        bound = runner.addresses[0][1]
        switches = ", ".join(f"{name} {'on' if on else 'OFF'}"
                             for name, on in settings.enabled().items())  # fmt: skip
        # one scrape target per port: the workers of `lab serve --workers` share theirs
        target = (
            nullcontext() if multiprocess else registered_target("lab-serve", f"{host}:{bound}")
        )
        with stop_signals() as stop, target:
            ready(f"serving http://{host}:{bound}/ ({switches}; followers at {followers_url})")
            await stop.wait()
    finally:
        await runner.cleanup()
        if followers is not None:
            await followers.stop()
