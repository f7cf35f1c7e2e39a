"""The one small interface every cache store implements, async and sync.

Stores hold bytes under string keys with a TTL; they know nothing of serialization or
stampedes (that is ``cached``'s job). A store that cannot answer raises
``CacheBackendError``, which ``cached`` survives by calling the origin directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lab.errors import CacheBackendError

__all__ = ["CacheBackend", "CacheBackendError"]


class CacheBackend(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Set only if absent (``SET NX``); True if this call stored it."""
        ...

    async def delete(self, *keys: str) -> int: ...

    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        """Delete ``key`` only while it still holds ``value`` (a lock's owner token)."""
        ...

    async def tag(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        """Remember that ``key`` belongs to each of ``tags``."""
        ...

    async def invalidate_tags(self, *tags: str) -> int:
        """Delete every key tagged with any of ``tags``; the number of keys deleted."""
        ...

    async def close(self) -> None: ...

    def get_sync(self, key: str) -> bytes | None: ...

    def set_sync(self, key: str, value: bytes, ttl_s: float) -> None: ...

    def delete_sync(self, *keys: str) -> int: ...

    def tag_sync(self, key: str, tags: Sequence[str], ttl_s: float) -> None: ...
