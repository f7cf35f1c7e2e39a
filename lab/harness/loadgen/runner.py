"""The load generator: open loop on a fixed arrival schedule, or the seed's closed loop.

Open loop (the default): a dispatcher puts each request's *intended* send time into a
bounded backlog when it falls due; one worker per connection takes the oldest and sends
it. Latency runs from the intended time, so a stall in the server (or in the generator)
shows in the percentiles instead of silently lowering the rate (coordinated omission).
A request that finds the backlog full is dropped and counted, never skipped quietly.

Closed loop (``mode="closed"``): each user sends, waits for the answer, thinks, and
sends again; latency runs from the actual send. It is here to be compared, not trusted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from lab.errors import ConfigError
from lab.harness.loadgen.http1 import Connection, ProtocolError, build_request, parse_target
from lab.harness.loadgen.mix import RequestMix
from lab.harness.loadgen.result import LoadResult
from lab.harness.loadgen.schedule import Schedule

__all__ = ["LoadSettings", "run_load"]

YIELD_EVERY = 64  # sends queued back to back before the dispatcher lets workers run


@dataclass(frozen=True)
class LoadSettings:
    url: str
    mode: str = "open"  # "open" or "closed"
    schedule: Schedule | None = None  # open loop
    users: int = 10  # closed loop
    think_time_s: float = 0.0  # closed loop
    duration_s: float = 10.0  # closed loop
    connections: int = 64  # open loop: concurrent connections (workers)
    timeout_s: float = 10.0
    max_backlog: int = 0  # open loop: due requests waiting for a connection; 0 = 10 x conns
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Paths to send in turn instead of the URL's own (the URL gives host and port).
    mix: RequestMix | None = None

    def __post_init__(self) -> None:
        parse_target(self.url)
        if self.mode not in ("open", "closed"):
            raise ConfigError(f"mode must be open or closed, not {self.mode!r}")
        if self.mode == "open" and self.schedule is None:
            raise ConfigError(
                "an open-loop run needs a schedule (--rate and --duration, or --stages)"
            )
        checks = {"connections": self.connections, "users": self.users}
        for name, value in checks.items():
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        if self.timeout_s <= 0 or self.duration_s <= 0 or self.think_time_s < 0:
            raise ConfigError("timeout and duration must be > 0, think time >= 0")

    @property
    def backlog(self) -> int:
        return self.max_backlog or 10 * self.connections

    def describe(self) -> dict[str, Any]:
        described = asdict(self)
        described["body"] = len(self.body)
        described["mix"] = self.mix.describe() if self.mix is not None else None
        if self.schedule is not None:
            described["schedule"] = {
                "start_rps": self.schedule.start_rps,
                "stages": [asdict(stage) for stage in self.schedule.stages],
                "duration_s": self.schedule.duration_s,
            }
        if self.mode == "open":
            for unused in ("users", "think_time_s", "duration_s"):
                described.pop(unused)
        else:
            described.pop("schedule")
            described.pop("max_backlog")
        return described


def _error_kind(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "connection reset"
    if isinstance(error, ProtocolError):
        return "protocol error"
    return "connection error"


class _Run:
    """Shared state of one run: the result being filled, and the clock origin."""

    def __init__(self, settings: LoadSettings) -> None:
        self.settings = settings
        self.target = parse_target(settings.url)
        if settings.mix is not None:
            self.raws = settings.mix.requests(self.target, settings.method, settings.headers,
                                              settings.body)  # fmt: skip
        else:
            self.raws = [build_request(self.target, settings.method, settings.headers,
                                       settings.body)]  # fmt: skip
        self.sent = 0
        self.result = LoadResult(
            settings=settings.describe(),
            started_utc=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self.start_ns = 0
        self.last_end_ns = 0

    async def send(self, conn: Connection, latency_from_ns: int) -> None:
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                raw = self.raws[self.sent % len(self.raws)]
                self.sent += 1
                status = await conn.request(raw)
        except (OSError, TimeoutError, ProtocolError) as error:
            conn.abort()
            self._count(time.perf_counter_ns(), None, error=_error_kind(error))
            return
        now = time.perf_counter_ns()
        self.result.status_counts[str(status)] += 1
        self._count(now, now - latency_from_ns, error="5xx" if status >= 500 else None)

    def _count(self, now: int, latency_ns: int | None, error: str | None) -> None:
        """Count one ended request in the totals and in its second of the timeline."""
        self.last_end_ns = max(self.last_end_ns, now)
        result = self.result
        result.requests += 1
        second = result.second((now - self.start_ns) // 1_000_000_000)
        second.requests += 1
        if latency_ns is not None:
            result.latency.record_ns(latency_ns)
            second.latency.record_ns(latency_ns)
        if error is not None:
            result.error_counts[error] += 1
            second.errors += 1


async def _open_loop(run: _Run) -> None:
    settings = run.settings
    assert settings.schedule is not None
    backlog: asyncio.Queue[int | None] = asyncio.Queue()
    limit = settings.backlog

    async def worker() -> None:
        conn = Connection(run.target)
        try:
            while (intended := await backlog.get()) is not None:
                await run.send(conn, intended)
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(settings.connections)]
    run.start_ns = time.perf_counter_ns()
    try:
        in_a_row = 0
        for offset in settings.schedule.offsets_ns():
            due = run.start_ns + offset
            run.result.scheduled += 1
            wait_ns = due - time.perf_counter_ns()
            if wait_ns > 200_000:
                await asyncio.sleep(wait_ns / 1e9)
                in_a_row = 0
            elif (in_a_row := in_a_row + 1) >= YIELD_EVERY:
                await asyncio.sleep(0)
                in_a_row = 0
            if backlog.qsize() >= limit:
                run.result.dropped += 1
            else:
                backlog.put_nowait(due)
        for _ in workers:
            backlog.put_nowait(None)
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    run.result.elapsed_s = max(run.last_end_ns - run.start_ns, 1) / 1e9


async def _closed_loop(run: _Run) -> None:
    settings = run.settings

    async def user() -> None:
        conn = Connection(run.target)
        try:
            while (sent := time.perf_counter_ns()) < deadline:
                await run.send(conn, sent)
                if settings.think_time_s:
                    await asyncio.sleep(settings.think_time_s)
        finally:
            conn.close()

    run.start_ns = time.perf_counter_ns()
    deadline = run.start_ns + int(settings.duration_s * 1e9)
    await asyncio.gather(*(user() for _ in range(settings.users)))
    run.result.scheduled = run.result.requests
    run.result.elapsed_s = (time.perf_counter_ns() - run.start_ns) / 1e9


async def run_load(
    settings: LoadSettings, on_start: Callable[[LoadResult], None] = lambda _: None
) -> LoadResult:
    """Run one load test in this event loop. ``on_start`` gets the live result to watch."""
    run = _Run(settings)
    on_start(run.result)
    await (_open_loop(run) if settings.mode == "open" else _closed_loop(run))
    return run.result
