"""Which offset a partition may commit: the first one not yet finished.

Kafka's committed offset means "everything before this is done". Committing the
consumer's position claims that for messages still being handled, so a crash would lose
them. Here every fetched offset is tracked until it is handled or
dead-lettered; the commit point is the lowest offset still open, or one past the last
fetched when none is. Offsets need not be contiguous (compaction and transaction markers
leave gaps): only the order matters.
"""

from __future__ import annotations

from collections import deque

__all__ = ["PartitionOffsets"]


class PartitionOffsets:
    """Offsets of one partition, fetched in increasing order and finished in any order."""

    def __init__(self) -> None:
        self._open: deque[int] = deque()  # fetched, in order; finished ones are dropped lazily
        self._finished: set[int] = set()
        self._last_fetched: int | None = None
        self.committed: int | None = None  # the last offset committed (next to consume)

    def fetched(self, offset: int) -> None:
        if self._last_fetched is not None and offset <= self._last_fetched:
            raise ValueError(f"offset {offset} fetched after {self._last_fetched}")
        self._last_fetched = offset
        self._open.append(offset)

    def fetched_run(self, offsets: list[int]) -> None:
        """A fetch's offsets of this partition at once (increasing, as Kafka returns them)."""
        if not offsets:
            return
        if self._last_fetched is not None and offsets[0] <= self._last_fetched:
            raise ValueError(f"offset {offsets[0]} fetched after {self._last_fetched}")
        if offsets[-1] < offsets[0]:
            raise ValueError(f"offsets fetched out of order: {offsets[0]} .. {offsets[-1]}")
        self._last_fetched = offsets[-1]
        self._open.extend(offsets)

    def finished(self, offset: int) -> None:
        opened = self._open
        if opened and opened[0] == offset:  # the first still open: nothing to remember
            opened.popleft()
        else:
            self._finished.add(offset)

    def finished_run(self, offsets: list[int]) -> None:
        """Offsets fetched together, finished together (increasing, as fetched)."""
        opened, count = self._open, len(offsets)
        # The first ones still open? Both increase: same first, same last, same count.
        if count and len(opened) >= count and opened[0] == offsets[0] and (
                opened[count - 1] == offsets[-1]):  # fmt: skip
            for _ in range(count):
                opened.popleft()
        else:
            self._finished.update(offsets)

    @property
    def open_count(self) -> int:
        """Fetched and not yet finished."""
        return len(self._open) - len(self._finished)

    def commit_point(self) -> int | None:
        """The offset to commit now: the first still open, or one past the last fetched;
        ``None`` when nothing was fetched or it equals what was already committed."""
        opened, finished = self._open, self._finished
        while opened and opened[0] in finished:
            finished.discard(opened.popleft())
        if opened:
            point = opened[0]
        elif self._last_fetched is not None:
            point = self._last_fetched + 1
        else:
            return None
        return None if point == self.committed else point
