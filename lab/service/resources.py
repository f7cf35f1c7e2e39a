"""What the service holds open while it runs, each part present only when its pattern is
on: the pool, the profile cache, the followers client, the Kafka publisher and consumer,
and one Prometheus registry with every collector. Under ``lab serve --workers N`` the
collectors are also written to the multiprocess files, and a scrape merges the workers'."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from lab.patterns.breaker import BreakerMetrics
from lab.patterns.caching import CacheBackend, CacheCollector, RedisCache, TieredCache, cached
from lab.patterns.limiter import AdaptiveLimiter
from lab.patterns.limiter_middleware import LimiterCollector
from lab.patterns.messaging.metrics import ProcessorCollector
from lab.patterns.monitoring import RequestCollector, RequestMetrics, exposition
from lab.patterns.monitoring_multiprocess import MultiprocessMetrics, scrape_registry
from lab.patterns.pool import DatabasePool, PoolCollector
from lab.patterns.system_metrics import SystemCollector
from lab.service.followers import FollowersClient
from lab.service.handlers import Handlers, PostsPage, Profile
from lab.service.registrations import Registrations
from lab.service.settings import ServiceSettings
from lab.service.store import UserStore

__all__ = ["Resources", "open_resources"]


@dataclass
class Resources:
    settings: ServiceSettings
    limiter: AdaptiveLimiter | None
    pool: DatabasePool | None
    store: UserStore
    cache: RedisCache | None
    profile: Profile
    followers: FollowersClient
    registrations: Registrations
    registry: CollectorRegistry
    handlers: Handlers
    #: Set when this process is one of several workers: its figures go to the files.
    multiprocess: MultiprocessMetrics | None = None
    _flushing: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_flushing(self, interval_s: float = 1.0) -> None:
        if self.multiprocess is not None:
            self._flushing = asyncio.create_task(self.multiprocess.run(interval_s))

    def metrics_text(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition and its content type (OpenMetrics when ``accept`` asks for it):
        this process's registry, or every worker's files merged."""
        if self.multiprocess is None:
            return exposition(self.registry, accept)
        self.multiprocess.flush()
        return exposition(scrape_registry(), accept)

    @property
    def cache_stats(self) -> Any:
        return getattr(self.profile, "stats", None)

    @property
    def posts_cache_stats(self) -> Any:
        return getattr(self.handlers.posts_page, "stats", None)

    async def close(self) -> None:
        if self._flushing is not None:
            self._flushing.cancel()  # its last flush runs as it ends
            with contextlib.suppress(asyncio.CancelledError):
                await self._flushing
        await self.registrations.stop()
        await self.followers.__aexit__(None, None, None)
        if self.cache is not None:
            await self.cache.close()
        if self.pool is not None:
            await self.pool.close()


def _posts_key(user_id: int, *, page: int, per_page: int) -> str:
    return f"posts:{user_id}:{page}:{per_page}"


async def open_resources(settings: ServiceSettings, followers_url: str, metrics: RequestMetrics,
                         limiter: AdaptiveLimiter | None, *, multiprocess: bool = False
                         ) -> Resources:  # fmt: skip
    pool = None
    if settings.pool:
        # The lean engine without a reset round trip: the service's sessions keep no state
        # (transactions only, ended on release), and the database experiment's stage
        # table finds the reset costing more per query than either pool.
        pool = DatabasePool(settings.postgres_dsn, min_size=min(4, settings.pool_size),
                            max_size=settings.pool_size, acquire_timeout_s=5.0,
                            engine="lean", reset="none")  # fmt: skip
        await pool.open()
    store = UserStore(settings.postgres_dsn, pool)
    await store.prepare(settings.dataset_users, settings.dataset_posts)
    registry = CollectorRegistry()
    own: list[Collector] = []

    def register(collector: Collector) -> None:
        own.append(collector)
        registry.register(collector)

    register(SystemCollector())
    register(RequestCollector(metrics))
    cache, profile = None, store.user
    posts_page: PostsPage = store.posts
    if settings.cache:
        cache = RedisCache(settings.redis_url, name="profiles", coalesce=settings.cache_coalesce)
        tiers: CacheBackend = cache  # the health check asks Redis itself: `cache`
        if settings.cache_front:
            tiers = TieredCache(cache, front_ttl_s=settings.cache_front_ttl_s, name=cache.name)
        cache_profile = cached(tiers, ttl=settings.cache_ttl_s, negative_ttl_s=5.0,
                               name="profile", key=lambda user_id: f"user:{user_id}")  # fmt: skip
        profile = cache_profile(store.user)
        caches = [profile.stats]
        if settings.cache_posts:
            cache_posts = cached(tiers, ttl=settings.cache_ttl_s, name="posts",
                                 key=_posts_key)  # fmt: skip
            posts_page = cache_posts(store.posts)
            caches.append(posts_page.stats)
        register(CacheCollector(caches))
    followers = FollowersClient(followers_url, breaker=settings.breaker,
                                timeout_s=settings.followers_timeout_s,
                                metrics=BreakerMetrics(registry))  # fmt: skip
    await followers.__aenter__()
    registrations = Registrations(store, settings.kafka_bootstrap, settings.registrations_topic,
                                  consume=settings.consume,
                                  group_id=settings.registrations_group)  # fmt: skip
    await registrations.start()
    if pool is not None:
        register(PoolCollector([pool]))
    if limiter is not None:
        register(LimiterCollector([limiter]))
    if registrations.processor is not None:
        register(ProcessorCollector([registrations.processor]))
    handlers = Handlers(store, profile, followers, registrations, settings.max_per_page,
                        posts_page)  # fmt: skip
    found = Resources(settings, limiter, pool, store, cache, profile, followers, registrations,
                      registry, handlers)  # fmt: skip
    if multiprocess:
        # The breaker's metrics are prometheus_client's own: in a worker they already
        # write to the files, so only the scrape-time collectors are copied there.
        found.multiprocess = MultiprocessMetrics(own)
        found.start_flushing()
    return found
