"""Cache-aside done right: stores, the ``@cached`` decorator, serializers and stats.

::

    cache = RedisCache("redis://127.0.0.1:6379/0")          # or MemoryCache(), TieredCache(...)

    @cached(cache, ttl=300, stampede="single-flight", tags=lambda user_id: [f"user:{user_id}"])
    async def user_profile(user_id: int) -> dict | None: ...

    await user_profile(7)                  # a miss calls the function, a hit does not
    await user_profile.invalidate(7)       # by arguments
    await cache.invalidate_tags("user:7")  # by tag
"""

from lab.patterns.caching.backend import CacheBackend, CacheBackendError
from lab.patterns.caching.decorator import Cached, Stampede, cached
from lab.patterns.caching.keys import KeyBuilder
from lab.patterns.caching.memory import MemoryCache
from lab.patterns.caching.redis_store import RedisCache
from lab.patterns.caching.serializers import (
    MsgpackSerializer,
    OrjsonSerializer,
    PickleSerializer,
    Serializer,
    serializer_named,
)
from lab.patterns.caching.stats import CacheCollector, CacheStats
from lab.patterns.caching.tiered import TieredCache

__all__ = [
    "CacheBackend",
    "CacheBackendError",
    "CacheCollector",
    "CacheStats",
    "Cached",
    "KeyBuilder",
    "MemoryCache",
    "MsgpackSerializer",
    "OrjsonSerializer",
    "PickleSerializer",
    "RedisCache",
    "Serializer",
    "Stampede",
    "TieredCache",
    "cached",
    "serializer_named",
]
