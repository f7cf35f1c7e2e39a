"""A fixed number of workers calling an operation back to back, for round-trip baselines.

This is a *closed* loop: it measures what one operation costs when nothing queues before
it. It is not a load test (a stall lowers the rate instead of showing in the latency);
``lab loadtest`` is the open-loop generator for that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lab.harness.latency import LatencyRecorder

__all__ = ["ClosedLoopResult", "run_closed_loop"]

Operation = Callable[[int], Awaitable[object]]


@dataclass(frozen=True)
class ClosedLoopResult:
    ops: int
    elapsed_s: float
    latency: LatencyRecorder

    @property
    def throughput_ops_s(self) -> float:
        return self.ops / self.elapsed_s if self.elapsed_s > 0 else float("nan")


async def run_closed_loop(
    operation: Operation, *, concurrency: int, duration_s: float, warmup_ops: int = 20
) -> ClosedLoopResult:
    """Run ``operation(worker_index)`` in ``concurrency`` workers for ``duration_s``.

    Each worker first runs ``warmup_ops`` unrecorded calls; then all start together.
    """
    if concurrency < 1 or duration_s <= 0:
        raise ValueError("concurrency must be >= 1 and duration_s > 0")
    recorders = [LatencyRecorder() for _ in range(concurrency)]
    warmed = 0
    all_warmed = asyncio.Event()
    gate = asyncio.Event()
    deadline = 0

    async def worker(index: int) -> None:
        nonlocal warmed
        for _ in range(warmup_ops):
            await operation(index)
        warmed += 1
        if warmed == concurrency:
            all_warmed.set()
        await gate.wait()
        recorder = recorders[index]
        clock = time.perf_counter_ns
        while (began := clock()) < deadline:
            await operation(index)
            recorder.record_ns(clock() - began)

    tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
    waiter = asyncio.create_task(all_warmed.wait())
    try:
        # A worker finishes before the gate opens only by failing: surface that at once.
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter:
                task.result()
        began = time.perf_counter_ns()
        deadline = began + int(duration_s * 1e9)
        gate.set()
        await asyncio.gather(*tasks)
    finally:
        for task in [waiter, *tasks]:
            task.cancel()
    elapsed = (time.perf_counter_ns() - began) / 1e9
    total = LatencyRecorder.merged(recorders)
    return ClosedLoopResult(total.count, elapsed, total)
