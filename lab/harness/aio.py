"""One event loop policy for every measurement: uvloop when installed, else asyncio's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["loop_name", "new_runner"]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def new_runner() -> asyncio.Runner:
    """An ``asyncio.Runner`` on uvloop if available. Close it when done (or use ``with``)."""
    return asyncio.Runner(loop_factory=_loop_factory())


def loop_name() -> str:
    return "uvloop" if _loop_factory() is not None else "asyncio"
