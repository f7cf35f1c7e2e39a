"""What the failure parts (a Redis Cluster master, a Kafka broker killed) share: they
kill processes, so they run only on a cluster ``lab services`` started, and say why not
otherwise."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from lab.harness.services.probes import Health

__all__ = ["why_not_run"]


async def why_not_run(
    what: str, environment: str, health: Callable[[], Health], start: str
) -> str | None:
    """Why a failure part cannot run on ``what``: ``environment`` names a cluster whose
    processes are not the lab's to kill, or the lab's is not whole. None when it can."""
    if os.environ.get(environment):
        return (f"{environment} names a cluster this run cannot kill a node of; unset it "
                f"and start the lab's own with `{start}`")  # fmt: skip
    found = await asyncio.to_thread(health)
    if not found.healthy:
        return f"the {what} is not up, or not whole ({found.detail}); start it with `{start}`"
    return None
