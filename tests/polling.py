"""Waiting for something another process does, without reading the clock in a test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psutil


def eventually(condition: Callable[[], bool], *, polls: int = 3000, every_s: float = 0.01) -> bool:
    """Whether ``condition`` held at one of ``polls`` checks, ``every_s`` apart: a guard
    against a test hanging forever, not a measure of how fast anything happened."""
    for _ in range(polls):
        if condition():
            return True
        time.sleep(every_s)
    return condition()


async def eventually_async(
    condition: Callable[[], bool], *, polls: int = 3000, every_s: float = 0.01
) -> bool:
    """``eventually`` inside an event loop: it sleeps without blocking the loop, so the
    tasks that make ``condition`` true go on."""
    for _ in range(polls):
        if condition():
            return True
        await asyncio.sleep(every_s)
    return condition()


def running(process: psutil.Process) -> bool:
    """Whether ``process`` still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
