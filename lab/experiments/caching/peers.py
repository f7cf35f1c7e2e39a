"""cashews and aiocache set up for the same hit and miss workloads as ``@cached``.

Both are optional (the ``bench`` extra); a missing one is simply not measured. Each
factory returns ``(decorate, close)``: ``decorate(func)`` caches ``func`` for 60 s.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

Func = Callable[[int], Awaitable[Any]]
Peer = tuple[Callable[[Func], Func], Callable[[], Awaitable[None]]]

__all__ = ["peers"]


def _cashews(url: str | None) -> Peer:
    from cashews import Cache

    cache = Cache()
    cache.setup(url or "mem://")
    prefix = uuid.uuid4().hex

    def decorate(func: Func) -> Func:
        return cache(ttl="60s", key=prefix + ":{x}")(func)

    async def close() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # cashews calls close()
            await cache.close()

    return decorate, close


def _aiocache(url: str | None) -> Peer:
    from aiocache import Cache, cached  # type: ignore[import-untyped]
    from aiocache.serializers import JsonSerializer  # type: ignore[import-untyped]

    made: list[Any] = []
    namespace = uuid.uuid4().hex

    def decorate(func: Func) -> Func:
        if url is None:
            wrapped = cached(ttl=60, cache=Cache.MEMORY, namespace=namespace)(func)
        else:
            from urllib.parse import urlsplit

            where = urlsplit(url)
            wrapped = cached(ttl=60, cache=Cache.REDIS, endpoint=where.hostname,
                             port=where.port or 6379, serializer=JsonSerializer(),
                             namespace=namespace)(func)  # fmt: skip
        made.append(wrapped)
        return wrapped  # type: ignore[no-any-return]

    async def close() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # aiocache calls close()
            for wrapped in made:
                await wrapped.cache.close()

    return decorate, close


def peers(redis_url: str | None) -> dict[str, Callable[[], Peer]]:
    """The installed peers, by label; ``redis_url=None`` means their memory backends."""
    found: dict[str, Callable[[], Peer]] = {}
    try:
        import cashews  # noqa: F401

        found["cashews"] = lambda: _cashews(redis_url)
    except ImportError:
        pass
    try:
        import aiocache  # noqa: F401

        found["aiocache"] = lambda: _aiocache(redis_url)
    except ImportError:
        pass
    return found
