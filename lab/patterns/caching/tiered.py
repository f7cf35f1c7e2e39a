"""``TieredCache``: a small in-process tier in front of a shared one (usually Redis).

A hit in the front tier costs no round trip. The front tier keeps an entry for at most
``front_ttl_s``, which bounds how stale a process can be after another one invalidates
the key in the back tier. Locks live in the back tier only: they must be shared.
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.patterns.caching.backend import CacheBackend
from lab.patterns.caching.memory import MemoryCache

__all__ = ["TieredCache"]


class TieredCache:
    def __init__(
        self,
        back: CacheBackend,
        front: MemoryCache | None = None,
        *,
        front_ttl_s: float = 5.0,
        name: str = "tiered",
    ) -> None:
        self.name = name
        self.front = front if front is not None else MemoryCache()
        self.back = back
        self.front_ttl_s = front_ttl_s

    def _front_ttl(self, ttl_s: float) -> float:
        return min(ttl_s, self.front_ttl_s)

    async def get(self, key: str) -> bytes | None:
        value = self.front.get_sync(key)
        if value is None:
            value = await self.back.get(key)
            if value is not None:
                self.front.set_sync(key, value, self.front_ttl_s)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.front.set_sync(key, value, self._front_ttl(ttl_s))
        await self.back.set(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self.back.add(key, value, ttl_s)

    async def delete(self, *keys: str) -> int:
        self.front.delete_sync(*keys)
        return await self.back.delete(*keys)

    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        return await self.back.delete_if_equal(key, value)

    async def tag(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        self.front.tag_sync(key, tags, ttl_s)
        await self.back.tag(key, tags, ttl_s)

    async def invalidate_tags(self, *tags: str) -> int:
        await self.front.invalidate_tags(*tags)
        return await self.back.invalidate_tags(*tags)

    async def close(self) -> None:
        await self.front.close()
        await self.back.close()

    def get_sync(self, key: str) -> bytes | None:
        value = self.front.get_sync(key)
        if value is None:
            value = self.back.get_sync(key)
            if value is not None:
                self.front.set_sync(key, value, self.front_ttl_s)
        return value

    def set_sync(self, key: str, value: bytes, ttl_s: float) -> None:
        self.front.set_sync(key, value, self._front_ttl(ttl_s))
        self.back.set_sync(key, value, ttl_s)

    def delete_sync(self, *keys: str) -> int:
        self.front.delete_sync(*keys)
        return self.back.delete_sync(*keys)

    def tag_sync(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        self.front.tag_sync(key, tags, ttl_s)
        self.back.tag_sync(key, tags, ttl_s)
