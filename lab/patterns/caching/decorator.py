"""``@cached``: cache-aside for async and sync functions, safe under stampedes and outages.

A lookup is a hit (the stored entry, even one holding ``None``), a miss (nothing stored),
or an error (the store failed: counted, and the function is called directly, so a caller
never sees a cache exception). Misses are filled according to ``stampede``:

``"none"``           every concurrent miss calls the function (no protection);
``"single-flight"``  concurrent misses on one key in this process await one call;
``"lock"``           single-flight in this process, and a ``SET NX PX`` lock in the store
                     admits one process; the others poll the store until the value
                     appears or ``lock_wait_s`` runs out (then they call the function);
``"early-refresh"``  single-flight, plus XFetch: a hit recomputes in the background with a
                     probability that rises as expiry nears (``early_beta`` scales it), so
                     a hot key is refreshed before it expires and nobody waits.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import os
import random
import threading
import time
import types
import warnings
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Literal, ParamSpec, TypeVar, cast, get_args

from lab.errors import ConfigError
from lab.patterns.caching.backend import CacheBackend, CacheBackendError
from lab.patterns.caching.keys import KeyBuilder
from lab.patterns.caching.serializers import (
    Entry,
    OrjsonSerializer,
    Serializer,
    pack_entry,
    unpack_entry,
)
from lab.patterns.caching.stats import CacheStats

__all__ = ["Cached", "Stampede", "cached"]

P = ParamSpec("P")
R = TypeVar("R")
Stampede = Literal["none", "single-flight", "lock", "early-refresh"]
_STAMPEDES: tuple[str, ...] = get_args(Stampede)
_MISSING = object()
Tags = Sequence[str] | Callable[..., Sequence[str]]


@dataclass(frozen=True)
class _Policy:
    ttl_s: float
    negative_ttl_s: float | None
    is_negative: Callable[[Any], bool]
    cache_none: bool
    ttl_jitter: float
    stampede: str
    lock_ttl_s: float
    lock_wait_s: float
    early_beta: float
    tags: Tags | None


class Cached(Generic[P, R]):
    """The decorated function: call it as before; it also has ``stats``, ``key_for``,
    ``invalidate`` (async) and ``invalidate_sync``."""

    def __init__(
        self,
        func: Callable[P, R],
        cache: CacheBackend,
        policy: _Policy,
        *,
        keys: KeyBuilder,
        key: Callable[..., str] | None,
        serializer: Serializer,
        clock: Callable[[], float],
        rng: random.Random,
        name: str,
    ) -> None:
        self.__wrapped__ = func
        self.__name__ = getattr(func, "__name__", name)
        self.__qualname__ = getattr(func, "__qualname__", name)
        self.__doc__ = func.__doc__
        self.cache = cache
        self.policy = policy
        self.stats = CacheStats(name)
        self.is_async = inspect.iscoroutinefunction(func)
        self._keys = keys
        self._key = key
        self._serializer = serializer
        self._clock = clock
        self._rng = rng
        self._flights: dict[str, asyncio.Task[Any]] = {}
        self._sync_guard = threading.Lock()
        self._sync_flights: dict[str, threading.Lock] = {}
        # An in-process store is read without a coroutine round: half a memory hit's cost.
        self._key_of = keys if key is None else self._custom_key
        self._loads = serializer.loads
        self._early = policy.stampede == "early-refresh"
        self._local_get = cache.get_sync if getattr(cache, "in_process", False) else None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.is_async:
            return cast(R, self._get_async(args, kwargs))
        return cast(R, self._get_sync(args, kwargs))

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return self if instance is None else types.MethodType(self, instance)

    def key_for(self, *args: Any, **kwargs: Any) -> str:
        """The store key a call with these arguments reads and writes."""
        return self._key_of(args, kwargs)

    def _custom_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        assert self._key is not None
        return self._keys.prefix + self._key(*args, **kwargs)

    async def invalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Forget the value cached for these arguments; True if one was stored."""
        return await self.cache.delete(self.key_for(*args, **kwargs)) > 0

    def invalidate_sync(self, *args: Any, **kwargs: Any) -> bool:
        return self.cache.delete_sync(self.key_for(*args, **kwargs)) > 0

    # --- reading -------------------------------------------------------------------------

    def _decode(self, raw: bytes) -> tuple[Entry | None, Any]:
        try:
            entry = unpack_entry(raw)
            return entry, self._loads(entry[2])
        except Exception:  # a foreign or corrupt entry is a miss, never a crash
            self.stats.errors += 1
            return None, _MISSING

    def _due_early(self, entry: Entry) -> bool:
        """XFetch (Vattani et al. 2015): refresh if now - delta*beta*ln(U) >= expiry."""
        draw = -math.log(1.0 - self._rng.random())  # U in (0, 1]: draw >= 0
        expires_at, compute_s, _ = entry
        return self._clock() + compute_s * self.policy.early_beta * draw >= expires_at

    async def _get_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        began = time.perf_counter()
        key = self._key_of(args, kwargs)
        stats = self.stats
        try:
            raw = self._local_get(key) if self._local_get else await self.cache.get(key)
        except CacheBackendError:
            stats.errors += 1
            stats.misses += 1
            if self.policy.stampede == "none":
                value = await self._origin(args, kwargs)  # fail open; no store to fill
            else:  # fail open, still one origin call per key for concurrent callers
                value = await asyncio.shield(self._flight(key, args, kwargs, store=False))
            stats.miss_latency.observe(time.perf_counter() - began)
            return value
        if raw is not None:  # the hit path, kept flat: it is most of the calls
            try:
                entry = unpack_entry(raw)
                value = self._loads(entry[2])
            except Exception:  # a foreign or corrupt entry is a miss, never a crash
                stats.errors += 1
            else:
                stats.hits += 1
                if self._early and self._due_early(entry):
                    self._refresh_in_background(key, args, kwargs)
                waited = time.perf_counter() - began
                latency = stats.hit_latency  # BucketHistogram.observe, inlined on the hot path
                latency.counts[bisect_left(latency.bounds, waited)] += 1
                latency.total_s += waited
                return value
        stats.misses += 1
        value = await self._fill(key, args, kwargs)
        stats.miss_latency.observe(time.perf_counter() - began)
        return value

    # --- filling a miss ------------------------------------------------------------------

    async def _fill(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        stampede = self.policy.stampede
        if stampede == "none":
            return await self._compute_and_store(key, args, kwargs)
        return await asyncio.shield(self._flight(key, args, kwargs, recheck=True))

    def _flight(
        self,
        key: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        store: bool = True,
        recheck: bool = False,
    ) -> asyncio.Task[Any]:
        """The one task filling ``key`` in this process. Under ``lock`` it takes the store's
        lock, so a process sends one lock attempt and one poller, not one per caller;
        ``store=False`` (the store is failing) only calls the function. ``recheck`` (a
        miss): read the store once more first, since a caller that missed just before the
        last flight stored its value arrives after that flight is gone."""
        task = self._flights.get(key)
        if task is None:
            if not store:
                task = asyncio.create_task(self._origin(args, kwargs))
            elif self.policy.stampede == "lock":
                task = asyncio.create_task(self._fill_under_lock(key, args, kwargs))
            elif recheck:
                task = asyncio.create_task(self._recheck_then_fill(key, args, kwargs))
            else:
                task = asyncio.create_task(self._compute_and_store(key, args, kwargs))
            self._flights[key] = task
            task.add_done_callback(lambda done: self._flights.pop(key, None))
        return task

    async def _recheck_then_fill(
        self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            raw = await self.cache.get(key)
        except CacheBackendError:
            self.stats.errors += 1
            raw = None
        if raw is not None:
            try:
                return self._loads(unpack_entry(raw)[2])
            except Exception:  # foreign or corrupt: the caller that missed counted it
                pass
        return await self._compute_and_store(key, args, kwargs)

    def _refresh_in_background(
        self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if key in self._flights:
            return
        self.stats.early_refreshes += 1
        self._flight(key, args, kwargs).add_done_callback(self._note_refresh_failure)

    def _note_refresh_failure(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.stats.errors += 1  # the stale value keeps being served until expiry

    async def _fill_under_lock(
        self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        token = os.urandom(16)
        lock_key = key + ":lock"
        try:
            owner = await self.cache.add(lock_key, token, self.policy.lock_ttl_s)
        except CacheBackendError:
            self.stats.errors += 1
            return await self._origin(args, kwargs)
        if owner:
            try:
                found = await self._peek(key)  # filled between our miss and our lock?
                if found is not _MISSING:
                    return found
                return await self._compute_and_store(key, args, kwargs)
            finally:
                try:
                    await self.cache.delete_if_equal(lock_key, token)
                except CacheBackendError:
                    self.stats.errors += 1  # the lock expires by itself after lock_ttl_s
        self.stats.lock_waits += 1
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + self.policy.lock_wait_s, 0.002
        while loop.time() < deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
            found = await self._peek(key)
            if found is not _MISSING:
                return found
        self.stats.lock_timeouts += 1
        return await self._compute_and_store(key, args, kwargs)

    async def _peek(self, key: str) -> Any:
        try:
            raw = await self.cache.get(key)
        except CacheBackendError:
            self.stats.errors += 1
            return _MISSING
        return _MISSING if raw is None else self._decode(raw)[1]

    async def _origin(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.stats.origin_calls += 1
        return await cast(Callable[..., Awaitable[Any]], self.__wrapped__)(*args, **kwargs)

    async def _compute_and_store(
        self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        began = self._clock()
        value = await self._origin(args, kwargs)
        stored = self._entry(value, self._clock() - began)
        if stored is not None:
            entry, ttl_s = stored
            try:
                await self.cache.set(key, entry, ttl_s)
                if self.policy.tags is not None:
                    await self.cache.tag(key, self._tags(args, kwargs), ttl_s)
            except CacheBackendError:
                self.stats.errors += 1
        return value

    def _entry(self, value: Any, compute_s: float) -> tuple[bytes, float] | None:
        """The bytes to store and their TTL, or None when this value is not cached."""
        policy = self.policy
        negative = policy.is_negative(value)
        if value is None and not policy.cache_none:
            return None
        ttl_s = policy.negative_ttl_s if negative and policy.negative_ttl_s else policy.ttl_s
        ttl_s *= 1.0 - policy.ttl_jitter * self._rng.random()
        payload = self._serializer.dumps(value)
        return pack_entry(payload, self._clock() + ttl_s, compute_s), ttl_s

    def _tags(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Sequence[str]:
        tags = self.policy.tags
        return tags(*args, **kwargs) if callable(tags) else cast(Sequence[str], tags)

    # --- sync functions ------------------------------------------------------------------

    def _get_sync(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        began = time.perf_counter()
        key = self._key_of(args, kwargs)
        try:
            raw = self.cache.get_sync(key)
        except CacheBackendError:
            self.stats.errors += 1
            self.stats.misses += 1
            self.stats.origin_calls += 1
            return self.__wrapped__(*args, **kwargs)
        if raw is not None:
            entry, value = self._decode(raw)
            if entry is not None:
                self.stats.hits += 1
                self.stats.hit_latency.observe(time.perf_counter() - began)
                return value
        self.stats.misses += 1
        if self.policy.stampede == "none":
            value = self._compute_and_store_sync(key, args, kwargs)
        else:
            value = self._fill_single_flight_sync(key, args, kwargs)
        self.stats.miss_latency.observe(time.perf_counter() - began)
        return value

    def _fill_single_flight_sync(
        self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        with self._sync_guard:
            flight = self._sync_flights.setdefault(key, threading.Lock())
        try:
            with flight:
                try:
                    raw = self.cache.get_sync(key)  # the thread before us may have filled it
                except CacheBackendError:
                    raw = None
                if raw is not None:
                    entry, value = self._decode(raw)
                    if entry is not None:
                        return value
                return self._compute_and_store_sync(key, args, kwargs)
        finally:
            with self._sync_guard:
                if self._sync_flights.get(key) is flight and not flight.locked():
                    del self._sync_flights[key]

    def _compute_and_store_sync(
        self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        began = self._clock()
        self.stats.origin_calls += 1
        value = self.__wrapped__(*args, **kwargs)
        stored = self._entry(value, self._clock() - began)
        if stored is not None:
            entry, ttl_s = stored
            try:
                self.cache.set_sync(key, entry, ttl_s)
                if self.policy.tags is not None:
                    self.cache.tag_sync(key, self._tags(args, kwargs), ttl_s)
            except CacheBackendError:
                self.stats.errors += 1
        return value


def _ttl_seconds(ttl: float | timedelta, renamed: dict[str, Any]) -> float:
    """``ttl`` in seconds; ``ttl_s`` (the old name) in ``renamed`` takes its place."""
    if "ttl_s" in renamed:
        warnings.warn("cached(ttl_s=...) is now cached(ttl=...)", DeprecationWarning,
                      stacklevel=3)  # fmt: skip
        ttl = renamed.pop("ttl_s")
    if renamed:
        raise TypeError(f"cached() got an unexpected keyword argument {next(iter(renamed))!r}")
    if isinstance(ttl, timedelta):
        return ttl.total_seconds()
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise ConfigError(f"ttl is seconds or a timedelta, not {ttl!r}")
    return float(ttl)


def cached(
    cache: CacheBackend | None = None,
    ttl: float | timedelta = 60.0,
    *,
    stampede: Stampede = "single-flight",
    cache_none: bool = True,
    negative_ttl_s: float | None = None,
    is_negative: Callable[[Any], bool] = lambda v: v is None,
    ttl_jitter: float = 0.1,
    serializer: Serializer | None = None,
    key: Callable[..., str] | None = None,
    ignore: Collection[str] = (),
    namespace: str = "lab",
    version: int = 1,
    tags: Tags | None = None,
    lock_ttl_s: float = 10.0,
    lock_wait_s: float = 5.0,
    early_beta: float = 1.0,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    name: str | None = None,
    **renamed: Any,
) -> Callable[[Callable[P, R]], Cached[P, R]]:
    """Cache ``func``'s results in ``cache`` for ``ttl`` (seconds, or a ``timedelta``),
    less up to ``ttl_jitter`` of it, so keys written together do not expire together.

    ``clock`` is wall-clock seconds (entries carry their expiry across processes); tests
    pass a virtual one. Bump ``version`` to invalidate everything the function cached.
    ``ttl_s=`` is the deprecated name of ``ttl=``.
    """
    if cache is None:
        raise ConfigError("cached needs a store to cache in: @cached(RedisCache("
                          "'redis://localhost:6379'), ttl=1800), or MemoryCache() in one "
                          "process")  # fmt: skip
    ttl_s = _ttl_seconds(ttl, renamed)
    if stampede not in _STAMPEDES:
        raise ConfigError(f"stampede must be one of {', '.join(_STAMPEDES)}, not {stampede!r}")
    if ttl_s <= 0 or (negative_ttl_s is not None and negative_ttl_s <= 0):
        raise ConfigError("ttl and negative_ttl_s must be positive")
    if not 0.0 <= ttl_jitter < 1.0:
        raise ConfigError(f"ttl_jitter is a fraction in [0, 1), not {ttl_jitter}")
    policy = _Policy(
        ttl_s=ttl_s,
        negative_ttl_s=negative_ttl_s,
        is_negative=is_negative,
        cache_none=cache_none,
        ttl_jitter=ttl_jitter,
        stampede=stampede,
        lock_ttl_s=lock_ttl_s,
        lock_wait_s=lock_wait_s,
        early_beta=early_beta,
        tags=tags,
    )

    def decorate(func: Callable[P, R]) -> Cached[P, R]:
        if not inspect.iscoroutinefunction(func) and stampede in ("lock", "early-refresh"):
            raise ConfigError(f"stampede={stampede!r} needs an async function")
        keys = KeyBuilder(func, namespace=namespace, version=version, ignore=ignore)
        return Cached(
            func,
            cache,
            policy,
            keys=keys,
            key=key,
            serializer=serializer or OrjsonSerializer(),
            clock=clock,
            rng=rng or random.Random(),
            name=name or func.__qualname__,
        )

    return decorate
