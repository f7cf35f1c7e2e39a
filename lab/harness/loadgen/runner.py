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
import contextlib
import signal
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lab.errors import ConfigError
from lab.harness.aio import STOP_SIGNALS, stop_signals
from lab.harness.loadgen.http1 import (
    Connection,
    ProtocolError,
    build_request,
    parse_target,
    tls_context,
)
from lab.harness.loadgen.mix import RequestMix
from lab.harness.loadgen.response import TOKEN
from lab.harness.loadgen.result import LoadResult
from lab.harness.loadgen.scenario import Answer, Scenario, VirtualUser
from lab.harness.loadgen.schedule import Schedule

__all__ = [
    "LoadSettings", "format_status_ranges", "parse_status_ranges", "run_load",
    "run_load_until_stopped",
]  # fmt: skip

YIELD_EVERY = 64  # sends queued back to back before the dispatcher lets workers run
EXPIRED = "timeout before send"  # the error kind of a request whose deadline passed unsent


@dataclass(frozen=True)
class LoadSettings:
    url: str
    mode: str = "open"  # "open" or "closed"
    schedule: Schedule | None = None  # open loop
    users: int = 10  # closed loop
    think_time_s: float = 0.0  # closed loop
    duration_s: float = 10.0  # closed loop
    connections: int = 64  # open loop: concurrent connections (workers)
    #: A request's deadline, from when it was due (open loop) or sent (closed loop).
    timeout_s: float = 10.0
    max_backlog: int = 0  # open loop: due requests waiting for a connection; 0 = 10 x conns
    method: str = "GET"
    #: Statuses that count as success, as inclusive ranges; any other is an error.
    expect_status: tuple[tuple[int, int], ...] = ((200, 399),)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: https: trust this CA bundle instead of the system's; or check no certificate at all.
    ca_file: str | None = None
    insecure: bool = False
    #: Start at this wall-clock time (Unix seconds), as the other segments of a
    #: distributed run do; None: at once.
    start_at_unix_s: float | None = None
    #: A Python file whose next_request(user) says what each request is (the URL then
    #: gives scheme, host and port); ``users`` virtual users take arrivals in turn.
    scenario: str | None = None
    seed: int = 0
    #: Paths to send in turn instead of the URL's own (the URL gives host and port).
    mix: RequestMix | None = None

    def __post_init__(self) -> None:
        if parse_target(self.url).tls:
            tls_context(self.ca_file, self.insecure)  # a bad CA file fails before the run
        elif self.ca_file is not None or self.insecure:
            raise ConfigError("--ca-file and --insecure are for https:// targets")
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
        if TOKEN.fullmatch(self.method.encode("latin-1", "replace")) is None:
            raise ConfigError(f"{self.method!r} is not an HTTP method (letters, like GET)")
        if not self.expect_status or any(
            not 100 <= low <= high <= 599 for low, high in self.expect_status
        ):
            raise ConfigError("expected statuses must be ranges within 100-599")

    @property
    def backlog(self) -> int:
        return self.max_backlog or 10 * self.connections

    def describe(self) -> dict[str, Any]:
        described = asdict(self)
        described["body"] = len(self.body)
        described["expect_status"] = format_status_ranges(self.expect_status)
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
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"tls: {error.verify_message or 'certificate not trusted'}"
    if isinstance(error, ssl.SSLError):
        return "tls error"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "connection reset"
    if isinstance(error, ProtocolError):
        return "protocol error"
    return "connection error"


def parse_status_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``"200-399,404"`` -> ``((200, 399), (404, 404))``."""
    ranges = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or not (high or low).isdigit():
            raise ConfigError(f"--expect-status {text!r}: give statuses or ranges, "
                              "like 200-399,404")  # fmt: skip
        ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def format_status_ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(f"{low}" if low == high else f"{low}-{high}" for low, high in ranges)


class _Run:
    """Shared state of one run: the result being filled, and the clock origin."""

    def __init__(self, settings: LoadSettings) -> None:
        self.settings = settings
        self.target = parse_target(settings.url)
        self.tls = tls_context(settings.ca_file, settings.insecure) if self.target.tls else None
        if settings.mix is not None:
            self.raws = settings.mix.requests(self.target, settings.method, settings.headers,
                                              settings.body)  # fmt: skip
        else:
            self.raws = [build_request(self.target, settings.method, settings.headers,
                                       settings.body)]  # fmt: skip
        self.scenario = (
            Scenario(settings.scenario, settings.users, settings.seed,
                     first_id=settings.users * (settings.schedule.segment[0]
                                                if settings.schedule else 0))
            if settings.scenario is not None else None
        )  # fmt: skip
        self.success = frozenset(status for low, high in settings.expect_status
                                 for status in range(low, high + 1))  # fmt: skip
        self.sent = 0
        self.result = LoadResult(
            settings=settings.describe(),
            started_utc=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self.start_ns = 0
        self.last_end_ns = 0

    async def begin(self) -> None:
        """Wait for ``start_at_unix_s`` if there is one, then start the clock."""
        start_at = self.settings.start_at_unix_s
        if start_at is not None:
            late_s = time.time() - start_at
            if late_s > 1.0:
                raise ConfigError(f"--start-at was {late_s:.1f} s ago when this generator "
                                  "was ready: give a time further ahead")  # fmt: skip
            if late_s < 0:
                await asyncio.sleep(-late_s)
        self.start_ns = time.perf_counter_ns()
        self.result.started_unix_s = time.time()
        self.result.started_utc = datetime.now(UTC).isoformat(timespec="milliseconds")

    async def send(self, conn: Connection, latency_from_ns: int) -> None:
        """Send one request and count how it ended. Its deadline runs from
        ``latency_from_ns`` (when it was due): one that waited in the generator past its
        deadline is never sent, and counts as ``timeout before send``."""
        now = time.perf_counter_ns()
        picked = self._next_request(now)
        if picked is None:
            return
        raw, method, name, user = picked
        left_s = self.settings.timeout_s - (now - latency_from_ns) / 1e9
        if left_s <= 0:
            self._count(now, None, EXPIRED, name)
            return
        try:
            async with asyncio.timeout(left_s):
                response = await conn.request(raw, method)
        except (OSError, TimeoutError, ProtocolError) as error:
            conn.abort()
            self._count(time.perf_counter_ns(), None, _error_kind(error), name)
            return
        now = time.perf_counter_ns()
        status = response.status
        self.result.status_counts[str(status)] += 1
        if user is not None:
            user.last = Answer(name or method, status, response.body or b"")
        unexpected = None if status in self.success else f"status {status}"
        self._count(now, now - latency_from_ns, unexpected, name)

    def _next_request(self, now: int) -> tuple[bytes, str, str | None, VirtualUser | None] | None:
        """The next request's bytes, method, reporting name and virtual user: from the
        prebuilt list in turn, or from the scenario (None when the scenario raised)."""
        if self.scenario is None:
            raw = self.raws[self.sent % len(self.raws)]
            self.sent += 1
            return raw, self.settings.method, None, None
        try:
            user, request = self.scenario.next()
        except Exception:
            self.result.scenario_error = self.scenario.first_error or ""
            self._count(now, None, "scenario error", "(scenario error)")
            return None
        raw = build_request(replace(self.target, path=request.path), request.method,
                            dict(request.headers), request.body)  # fmt: skip
        return raw, request.method, request.label, user

    def _count(self, now: int, latency_ns: int | None, error: str | None,
               name: str | None = None) -> None:  # fmt: skip
        """Count one ended request in the totals, in its second of the timeline and, with
        a scenario, under its request's name."""
        self.last_end_ns = max(self.last_end_ns, now)
        result = self.result
        result.requests += 1
        second = result.second((now - self.start_ns) // 1_000_000_000)
        second.requests += 1
        named = result.named(name) if name is not None else None
        if named is not None:
            named.requests += 1
        if latency_ns is not None:
            result.latency.record_ns(latency_ns)
            second.latency.record_ns(latency_ns)
            if named is not None:
                named.latency.record_ns(latency_ns)
        if error is not None:
            result.error_counts[error] += 1
            second.errors += 1
            if named is not None:
                named.errors += 1


async def _open_loop(run: _Run) -> None:
    settings = run.settings
    assert settings.schedule is not None
    backlog: asyncio.Queue[int | None] = asyncio.Queue()
    limit = settings.backlog

    async def worker() -> None:
        conn = Connection(run.target, keep_body=run.scenario is not None, tls=run.tls)
        try:
            while (intended := await backlog.get()) is not None:
                await run.send(conn, intended)
        finally:
            await conn.aclose()

    await run.begin()
    workers = [asyncio.create_task(worker()) for _ in range(settings.connections)]
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
        conn = Connection(run.target, keep_body=run.scenario is not None, tls=run.tls)
        try:
            while (sent := time.perf_counter_ns()) < deadline:
                await run.send(conn, sent)
                if settings.think_time_s:
                    await asyncio.sleep(settings.think_time_s)
        finally:
            await conn.aclose()

    await run.begin()
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
    try:
        await (_open_loop(run) if settings.mode == "open" else _closed_loop(run))
    finally:
        if not run.result.elapsed_s and run.start_ns:  # cancelled: what ran, over its span
            run.result.elapsed_s = max(run.last_end_ns - run.start_ns, 1) / 1e9
    return run.result


async def run_load_until_stopped(
    settings: LoadSettings,
    on_start: Callable[[LoadResult], None] = lambda _: None,
    signals: tuple[signal.Signals, ...] = STOP_SIGNALS,
) -> LoadResult:
    """``run_load``, which SIGINT (Ctrl-C) or SIGTERM ends early: the result then holds
    what ran, marked ``interrupted``. For a process's main thread (a command's run)."""
    live: list[LoadResult] = []

    def started(result: LoadResult) -> None:
        live.append(result)
        on_start(result)

    task = asyncio.ensure_future(run_load(settings, on_start=started))
    with stop_signals(signals) as stop:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    live[0].interrupted = True
    return live[0]
