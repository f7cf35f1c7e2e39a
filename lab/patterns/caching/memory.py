"""``MemoryCache``: an in-process LRU with TTL and a size bound; the embedded default."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

__all__ = ["MemoryCache"]


class MemoryCache:
    """Least-recently-used eviction beyond ``max_entries``; expired entries read as misses.

    ``clock`` (seconds, monotonic) is injectable so TTLs can be tested in virtual time.
    Safe to share between coroutines of one loop; the sync methods are for one thread.
    """

    in_process = True  # ``cached`` may call get_sync from async code: it never blocks

    def __init__(
        self,
        max_entries: int = 10_000,
        *,
        name: str = "memory",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.name = name
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    # --- sync core ----------------------------------------------------------------------

    def get_sync(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return found[1]

    def set_sync(self, key: str, value: bytes, ttl_s: float) -> None:
        self._entries[key] = (self._clock() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.evictions += 1

    def delete_sync(self, *keys: str) -> int:
        return sum(self._entries.pop(key, None) is not None for key in keys)

    def tag_sync(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        for tag in tags:
            self._tags.setdefault(tag, set()).add(key)

    # --- async interface ---------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return self.get_sync(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get_sync(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.set_sync(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        if self.get_sync(key) is not None:
            return False
        self.set_sync(key, value, ttl_s)
        return True

    async def delete(self, *keys: str) -> int:
        return self.delete_sync(*keys)

    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        if self.get_sync(key) != value:
            return False
        return self.delete_sync(key) == 1

    async def tag(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        self.tag_sync(key, tags, ttl_s)

    async def invalidate_tags(self, *tags: str) -> int:
        keys = set().union(*(self._tags.pop(tag, set()) for tag in tags))
        return self.delete_sync(*keys)

    async def close(self) -> None:
        self._entries.clear()
        self._tags.clear()
