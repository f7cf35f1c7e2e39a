"""What the service holds open while it runs, each part present only when its pattern is
on: the pool, the profile cache, the followers client, the Kafka publisher and consumer,
and one Prometheus registry with every collector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from lab.patterns.breaker import BreakerMetrics
from lab.patterns.caching import CacheCollector, RedisCache, cached
from lab.patterns.limiter import AdaptiveLimiter
from lab.patterns.limiter_middleware import LimiterCollector
from lab.patterns.messaging.metrics import ProcessorCollector
from lab.patterns.monitoring import RequestCollector, RequestMetrics
from lab.patterns.pool import DatabasePool, PoolCollector
from lab.patterns.system_metrics import metrics_registry
from lab.service.followers import FollowersClient
from lab.service.handlers import Handlers, Profile
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

    @property
    def cache_stats(self) -> Any:
        return getattr(self.profile, "stats", None)

    async def close(self) -> None:
        await self.registrations.stop()
        await self.followers.__aexit__(None, None, None)
        if self.cache is not None:
            await self.cache.close()
        if self.pool is not None:
            await self.pool.close()


async def open_resources(settings: ServiceSettings, followers_url: str, metrics: RequestMetrics,
                         limiter: AdaptiveLimiter | None) -> Resources:  # fmt: skip
    pool = None
    if settings.pool:
        pool = DatabasePool(settings.postgres_dsn, min_size=min(4, settings.pool_size),
                            max_size=settings.pool_size, acquire_timeout_s=5.0)  # fmt: skip
        await pool.open()
    store = UserStore(settings.postgres_dsn, pool)
    await store.prepare(settings.dataset_users, settings.dataset_posts)
    registry = metrics_registry(RequestCollector(metrics))
    cache, profile = None, store.user
    if settings.cache:
        cache = RedisCache(settings.redis_url, name="profiles")
        cache_profile = cached(cache, ttl_s=settings.cache_ttl_s, negative_ttl_s=5.0,
                               name="profile", key=lambda user_id: f"user:{user_id}")  # fmt: skip
        profile = cache_profile(store.user)
        registry.register(CacheCollector([profile.stats]))
    followers = FollowersClient(followers_url, breaker=settings.breaker,
                                timeout_s=settings.followers_timeout_s,
                                metrics=BreakerMetrics(registry))  # fmt: skip
    await followers.__aenter__()
    registrations = Registrations(store, settings.kafka_bootstrap, settings.registrations_topic,
                                  consume=settings.consume)  # fmt: skip
    await registrations.start()
    if pool is not None:
        registry.register(PoolCollector([pool]))
    if limiter is not None:
        registry.register(LimiterCollector([limiter]))
    if registrations.processor is not None:
        registry.register(ProcessorCollector([registrations.processor]))
    handlers = Handlers(store, profile, followers, registrations, settings.max_per_page)
    return Resources(settings, limiter, pool, store, cache, profile, followers, registrations,
                     registry, handlers)  # fmt: skip
