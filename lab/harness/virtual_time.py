"""An asyncio event loop whose clock jumps: sleeps and timers take no real time.

When nothing is ready to run, the loop advances its clock straight to the next timer
instead of waiting for it, so ten simulated minutes of ``asyncio.sleep`` run in the time
the callbacks themselves take. The order of events is exactly what the real loop would
produce with ideal timing, which makes runs deterministic. Sockets still work (they are
polled without waiting), but a coroutine waiting on real I/O alone would spin: use this
loop for models built from sleeps, futures and timers.

    >>> run_virtual(main())          # like asyncio.run(main()), in virtual time
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["VirtualTimeLoop", "run_virtual"]

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if not events and timeout is not None and timeout > 0:
            self.now += timeout
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``time()`` starts at 0 and moves only when the loop has nothing else to do."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(selector=self._jumping)
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return float(self._jumping.now)


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh :class:`VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
