"""One event loop policy for every measurement: uvloop when installed, else asyncio's."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import signal
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from lab.errors import ConfigError

__all__ = ["LOOPS", "loop_name", "new_runner", "outside_event_loop", "stop_signals"]

#: ``auto``: uvloop when installed, else asyncio's own loop.
LOOPS = ("auto", "uvloop", "asyncio")

P = ParamSpec("P")
T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def new_runner(loop: str = "auto") -> asyncio.Runner:
    """An ``asyncio.Runner`` on uvloop if available (``loop="auto"``), or on the loop named
    in :data:`LOOPS`. Close it when done (or use ``with``)."""
    if loop not in LOOPS:
        raise ConfigError(f"the event loop must be one of {', '.join(LOOPS)}, not {loop!r}")
    factory = None if loop == "asyncio" else _loop_factory()
    if loop == "uvloop" and factory is None:
        raise ConfigError("uvloop is not installed: pip install uvloop (the lab's fast extra)")
    return asyncio.Runner(loop_factory=factory)


def loop_name() -> str:
    return "uvloop" if _loop_factory() is not None else "asyncio"


def outside_event_loop(function: Callable[P, T]) -> Callable[P, T]:
    """Let a blocking function that runs its own event loop be called from inside one.

    Jupyter runs every cell inside an event loop, where ``asyncio.run`` is refused; the
    decorated function then runs in a worker thread with a loop of its own.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return function(*args, **kwargs)
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="lab") as pool:
            return pool.submit(function, *args, **kwargs).result()

    return wrapper


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_signals(signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> Iterator[asyncio.Event]:
    """A server process's stop switch: an event set by SIGINT (Ctrl-C) or SIGTERM.

    Enter it before printing the address a parent waits for, so a signal sent right after
    is not lost. Both signals are handled explicitly: a process started in the background
    of a shell script inherits SIGINT as *ignored*, so a server relying on Python's
    KeyboardInterrupt never hears it, and whoever stops it waits out a timeout and a SIGKILL.
    On exit the handlers in place before are back.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    previous = {signum: signal.getsignal(signum) for signum in signals}
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler)
