from __future__ import annotations

import asyncio

import pytest

from lab.harness.closed_loop import run_closed_loop


async def test_every_recorded_call_is_counted_once_and_warmup_is_not() -> None:
    calls: list[int] = []

    async def operation(worker: int) -> None:
        calls.append(worker)
        await asyncio.sleep(0)

    result = await run_closed_loop(operation, concurrency=4, duration_s=0.05, warmup_ops=3)
    assert result.ops == result.latency.count
    assert len(calls) == result.ops + 4 * 3
    assert set(calls) == {0, 1, 2, 3}


async def test_a_failing_operation_stops_the_run_with_its_error() -> None:
    async def operation(worker: int) -> None:
        raise ConnectionResetError("server went away")

    with pytest.raises(ConnectionResetError, match="went away"):
        await run_closed_loop(operation, concurrency=2, duration_s=0.05)


@pytest.mark.parametrize(("concurrency", "duration"), [(0, 1.0), (1, 0.0)])
async def test_bad_settings_are_rejected(concurrency: int, duration: float) -> None:
    async def operation(worker: int) -> None:
        return None

    with pytest.raises(ValueError):
        await run_closed_loop(operation, concurrency=concurrency, duration_s=duration)


async def test_blocking_entry_points_work_inside_a_running_loop() -> None:
    from lab.harness.aio import outside_event_loop

    @outside_event_loop
    def blocking() -> int:
        return asyncio.run(asyncio.sleep(0, result=7))

    assert blocking() == 7
