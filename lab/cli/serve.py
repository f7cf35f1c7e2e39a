"""``lab serve``: the reference service, with each pattern switchable."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="0: any free port.")] = 8000,
    cache: Annotated[bool, typer.Option(help="Redis cache-aside for profiles.")] = True,
    cache_coalesce: Annotated[bool, typer.Option(
        help="The profile cache's GETs of one event-loop tick go to Redis as one MGET "
        "(off: a GET each).")] = True,
    cache_front: Annotated[bool, typer.Option(
        help="The profile cache keeps Redis's answers in process too, for --cache-front-ttl "
        "(off: every lookup asks Redis).")] = True,
    cache_posts: Annotated[bool, typer.Option(
        help="Post pages by offset are cached as profiles are (off: a query each).")] = True,
    cache_front_ttl: Annotated[float, typer.Option(
        min=0.001, help="Seconds a profile stays in process.")] = 2.0,
    cancel_abandoned: Annotated[bool, typer.Option(
        help="Cancel a request whose client hung up (off: it runs to its end).")] = True,
    pool: Annotated[bool, typer.Option(help="A connection pool (off: one per request).")] = True,
    breaker: Annotated[bool, typer.Option(help="Circuit breaker on the followers call.")] = True,
    limiter: Annotated[bool, typer.Option(help="Adaptive concurrency limit.")] = True,
    pool_size: Annotated[int, typer.Option(min=1, max=500)] = 16,
    followers_url: Annotated[str | None, typer.Option(
        help="The followers service; default: a simulated one started beside.")] = None,
    followers_latency_ms: Annotated[float, typer.Option(
        min=0, help="Mean latency of the simulated followers service.")] = 5.0,
    users: Annotated[int, typer.Option(min=1, help="Users to create if none exist.")] = 10_000,
    posts: Annotated[int, typer.Option(min=0, help="Posts to create if none exist.")] = 100_000,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Processes sharing the port (SO_REUSEPORT); /metrics merges "
        "them (Prometheus multiprocess mode).")] = 1,
    registrations_group: Annotated[str | None, typer.Option(
        help="Kafka consumer group handling user.registered: services in one group share "
        "the events (replicas); each group gets every event. Default: "
        "lab-service-registrations.")] = None,
    loop: Annotated[str, typer.Option(
        help="Event loop: auto (uvloop when installed), uvloop or asyncio; one process "
        "only.")] = "auto",
) -> None:  # fmt: skip
    """Serve the reference service until Ctrl-C. LAB_SERVE_NO_CACHE=1 (and _POOL,
    _BREAKER, _LIMITER) switch patterns off too."""
    from lab.harness.aio import new_runner
    from lab.harness.simulate import ServerModel
    from lab.service import ServiceSettings
    from lab.service.serve import serve as run

    group = {"registrations_group": registrations_group} if registrations_group else {}
    settings = ServiceSettings.from_env(pool_size=pool_size, followers_url=followers_url,
                                        dataset_users=users, dataset_posts=posts,
                                        cache_coalesce=cache_coalesce, cache_front=cache_front,
                                        cache_front_ttl_s=cache_front_ttl,
                                        cache_posts=cache_posts,
                                        cancel_abandoned=cancel_abandoned, **group)  # fmt: skip
    off = {name: False for name, on in {"cache": cache, "pool": pool, "breaker": breaker,
                                        "limiter": limiter}.items() if not on}  # fmt: skip
    if off:
        from dataclasses import replace

        settings = replace(settings, **off)  # type: ignore[arg-type]
    if workers > 1:
        from lab.errors import ConfigError
        from lab.service.workers import serve_workers

        if loop != "auto":
            raise ConfigError("--loop is for one process: workers run uvloop when installed")

        serve_workers(settings, host=host, port=port, workers=workers,
                      followers_latency_ms=followers_latency_ms)  # fmt: skip
        return
    model = ServerModel(service_s=followers_latency_ms / 1000, distribution="lognormal")
    with contextlib.suppress(KeyboardInterrupt), new_runner(loop) as runner:
        runner.run(run(settings, host=host, port=port, followers_model=model))
