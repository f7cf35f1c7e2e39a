"""``lab loadtest`` and ``lab simulate``: the load generator and the simulated servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from lab.errors import ConfigError

if TYPE_CHECKING:  # imported where used: every `lab` command imports this module
    from lab.harness.loadgen import LoadResult, LoadSettings

__all__ = ["loadtest", "simulate"]

console = Console()
err = Console(stderr=True)


def _headers(pairs: list[str]) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--header {pair!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def _body(text: str | None) -> bytes:
    if text is None:
        return b""
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_bytes()
        except OSError as error:
            raise ConfigError(f"--body {text}: {error.strerror}") from None
    return text.encode()


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key}: {value:,}" for key, value in sorted(counts.items())) or "-"


def results_table(result: LoadResult) -> Table:
    table = Table("measure", "value", title="load test", title_justify="left")
    latency = result.latency_ms()
    rows = [
        ("requests", f"{result.requests:,} of {result.scheduled:,} scheduled"),
        ("dropped (backlog full)", f"{result.dropped:,}"),
        ("errors", f"{result.errors:,} ({result.error_rate_percent:.2f} %)"),
        ("achieved rate", f"{result.achieved_rps:,.1f} req/s over {result.elapsed_s:.2f} s"),
        ("answered without error", f"{result.succeeded_rps:,.1f} req/s (the SLO's throughput)"),
        *[(f"latency {name}", f"{value:.2f} ms") for name, value in latency.items()],
        ("status codes", _counts(result.status_counts)),
        ("error kinds", _counts(result.error_counts)),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    return table


def _start_at(text: str) -> float:
    """An ISO 8601 time (UTC unless it says otherwise) -> Unix seconds."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--start-at {text!r} is not a time such as 2026-12-01T09:00:00Z"
                          ) from None  # fmt: skip
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def names_table(result: LoadResult) -> Table:
    """Requests by the name a scenario gave them."""
    table = Table("request", "requests", "errors", "p50 ms", "p95 ms", "p99 ms",
                  title="by request name", title_justify="left")  # fmt: skip
    for name, named in sorted(result.by_name.items()):
        if named.latency.count:
            summary = named.latency.summary()
            cells = [f"{summary.p50:.2f}", f"{summary.p95:.2f}", f"{summary.p99:.2f}"]
        else:
            cells = ["-", "-", "-"]
        table.add_row(name, f"{named.requests:,}", f"{named.errors:,}", *cells)
    return table


def _think_time(text: str) -> float:
    from lab.harness.loadgen import parse_duration

    return 0.0 if text.strip() in ("0", "0s", "0ms") else parse_duration(text, "--think-time")


def _progress_line(result: LoadResult, elapsed: float, last: list[int]) -> str:
    done = result.requests
    rate = (done - last[0]) * 2  # refreshed twice a second
    last[0] = done
    p99 = result.latency.percentile_ms(99.0) if result.latency.count else float("nan")
    return (
        f"elapsed {elapsed:5.1f} s · rate {rate:7,.0f} req/s · p99 so far {p99:8.2f} ms · "
        f"errors {result.errors:,} · dropped {result.dropped:,}"
    )


async def _run_with_progress(settings: LoadSettings, show: bool,
                             metrics_port: int | None = None) -> LoadResult:  # fmt: skip
    """Run until done or stopped, with a progress line on a terminal and, given a port,
    the generator's metrics served for Prometheus."""
    from lab.harness.loadgen import run_load_until_stopped

    live: list[LoadResult] = []
    with contextlib.ExitStack() as stack:
        if metrics_port is not None:
            from lab.harness.loadgen.metrics import serve_metrics

            serving = serve_metrics(metrics_port, lambda: live[0] if live else None)
            where = stack.enter_context(serving)
            err.print(f"generator metrics at {where}", highlight=False)
        task = asyncio.ensure_future(run_load_until_stopped(settings, on_start=live.append))
        if not show:
            return await task
        loop = asyncio.get_running_loop()
        began, last = loop.time(), [0]
        with Live(console=err, refresh_per_second=4, transient=True) as line:
            while not task.done():
                await asyncio.wait([task], timeout=0.5)
                if live:
                    line.update(_progress_line(live[0], loop.time() - began, last))
        return task.result()


#: ``lab loadtest``'s exit codes, for CI jobs (also in its --help).
EXIT_SLO_MISSED = 1
EXIT_NO_SUCCESS = 3
EXIT_INTERRUPTED = 130


def _finish(result: LoadResult, json_out: Path | None, slo: Path | None) -> None:
    """Show and write what ran, then exit with the code that says how it went."""
    console.print(results_table(result))
    if result.by_name:
        console.print(names_table(result))
    if json_out is not None:
        result.write(json_out)
        console.print(f"result: {json_out}")
    if result.scenario_error:
        err.print(f"lab: the scenario raised {result.error_counts['scenario error']:,} times; "
                  f"first: {result.scenario_error}", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip
    if result.interrupted:
        err.print("lab: interrupted: the summary covers the requests that ran")
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.requests and not result.succeeded:
        target = result.settings.get("url", "the target")
        err.print(f"lab: no request to {target} succeeded ({_counts(result.error_counts)})",
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(EXIT_NO_SUCCESS)
    if slo is not None:
        from lab.harness.slo import evaluate, load_slo, verdict_line

        verdicts = evaluate(load_slo(slo), result.slo_metrics())
        for verdict in verdicts:
            measured = "-" if verdict.measured is None else f"{verdict.measured:.4g}"
            console.print(f"  {verdict.status:>12}  {verdict.target}  (measured {measured})")
        console.print(verdict_line(verdicts))
        if any(verdict.passed is False for verdict in verdicts):
            raise typer.Exit(EXIT_SLO_MISSED)


def loadtest(
    target: Annotated[list[str], typer.Argument(help="URL, or: merge A.json B.json ...")],
    rate: Annotated[float | None, typer.Option(help="Arrivals per second (open loop).")] = None,
    duration: Annotated[str, typer.Option(help="How long: 500ms, 10s, 2m.")] = "10s",
    stages: Annotated[
        str | None, typer.Option(help="Ramps, e.g. '10s:100,30s:1000,10s:0'.")
    ] = None,
    mode: Annotated[str, typer.Option(help="open (fixed arrival rate) or closed.")] = "open",
    users: Annotated[int, typer.Option(
        help="Closed loop: concurrent users. With --scenario: virtual users.")] = 10,
    think_time: Annotated[str, typer.Option(help="Closed loop: pause after each answer.")] = "0s",
    connections: Annotated[int, typer.Option(help="Open loop: connection pool size.")] = 64,
    max_backlog: Annotated[
        int, typer.Option(help="Due requests that may wait; 0 = 10 x connections.")
    ] = 0,
    timeout: Annotated[str, typer.Option(
        help="A request's deadline, from when it was due.")] = "10s",
    method: Annotated[str, typer.Option(help="HTTP method.")] = "GET",
    expect_status: Annotated[str, typer.Option(
        help="Statuses that count as success, e.g. 200-399,404; any other is an error.")
    ] = "200-399",
    header: Annotated[list[str] | None, typer.Option(help="'Name: value', repeatable.")] = None,
    body: Annotated[str | None, typer.Option(help="Request body, or @file.")] = None,
    ca_file: Annotated[Path | None, typer.Option(
        help="https: trust this CA bundle (PEM) instead of the system's.")] = None,
    insecure: Annotated[bool, typer.Option(
        help="https: check no certificate (a test server's self-signed one).")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full result.")] = None,
    slo: Annotated[Path | None, typer.Option(help="Exit 1 when a target is missed.")] = None,
    workers: Annotated[int, typer.Option(help="Processes to split the load over.")] = 1,
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve the generator's own metrics for Prometheus on this port (0: any).")
    ] = None,
    segment: Annotated[str | None, typer.Option(
        help="I/N: send every N-th request of the schedule, from the I-th: N generators "
             "(machines) given 1/N..N/N send the whole schedule between them.")] = None,
    start_at: Annotated[str | None, typer.Option(
        help="Start at this UTC time (ISO 8601, e.g. 2026-12-01T09:00:00Z), as the other "
             "segments do.")] = None,
    scenario: Annotated[Path | None, typer.Option(
        help="A Python file whose next_request(user) returns each request (what); the "
             "schedule still decides when.")] = None,
    seed: Annotated[int, typer.Option(help="With --scenario: seed of the users' draws.")] = 0,
    path: Annotated[list[str] | None, typer.Option(
        help="A weighted path instead of the URL's, '/api/users/{id}:6'; repeatable.")] = None,
    ids: Annotated[int, typer.Option(help="With --path: {id} is drawn from 1..ids.")] = 1000,
    zipf: Annotated[float, typer.Option(help="With --path: id skew (0 = uniform).")] = 0.0,
) -> None:  # fmt: skip
    """Open-loop HTTP load; latency from each request's intended send time.

    Exit codes: 0 the run completed and every --slo threshold held; 1 a threshold was
    missed; 2 bad input; 3 no request succeeded (the target is down or wrong);
    130 interrupted (Ctrl-C or SIGTERM): the summary and --json cover what ran.
    """
    from lab.harness.loadgen import (
        LoadResult,
        LoadSettings,
        Schedule,
        merge_results,
        parse_duration,
        parse_mix,
        parse_segment,
        parse_stages,
        parse_status_ranges,
        run_in_workers,
    )

    if target and target[0] == "merge":
        files = [Path(name) for name in target[1:]]
        if not files:
            raise ConfigError("merge needs result files: lab loadtest merge A.json B.json")
        _finish(merge_results([LoadResult.read(path) for path in files]), json_out, slo)
        return
    if len(target) != 1:
        raise ConfigError("give one URL (or: lab loadtest merge A.json B.json ...)")
    if slo is not None:
        from lab.harness.slo import load_slo

        load_slo(slo)  # fail on a bad SLO file before the run, not after
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    if mode not in ("open", "closed"):
        raise ConfigError(f"--mode must be open or closed, not {mode!r}")
    run_for = parse_duration(duration, "--duration")
    schedule = None
    if mode == "open":
        if stages is not None:
            schedule = Schedule(tuple(parse_stages(stages)), start_rps=rate or 0.0)
        elif rate is None:
            raise ConfigError("an open-loop run needs --rate (or --stages); or use --mode closed")
        else:
            schedule = Schedule.constant(rate, run_for)
        if segment is not None:
            schedule = schedule.share(*parse_segment(segment))
    elif segment is not None:
        raise ConfigError("--segment splits an open-loop schedule; give --rate or --stages")
    settings = LoadSettings(
        url=target[0], mode=mode, schedule=schedule, users=users,
        think_time_s=_think_time(think_time),
        duration_s=run_for, connections=connections, max_backlog=max_backlog,
        timeout_s=parse_duration(timeout, "--timeout"), method=method.upper(),
        expect_status=parse_status_ranges(expect_status),
        ca_file=str(ca_file) if ca_file is not None else None, insecure=insecure,
        start_at_unix_s=_start_at(start_at) if start_at is not None else None,
        headers=_headers(header or []), body=_body(body),
        mix=parse_mix(path, ids=ids, zipf_s=zipf) if path else None,
        scenario=str(scenario) if scenario is not None else None, seed=seed,
    )  # fmt: skip
    if workers > 1 and metrics_port is not None:
        raise ConfigError("--metrics-port serves one process: use it without --workers "
                          "(or give each --segment its own)")  # fmt: skip
    if workers > 1:
        with err.status(f"running {workers} worker processes"):
            result = run_in_workers(settings, workers)
    else:
        from lab.harness.aio import new_runner

        with new_runner() as runner:
            result = runner.run(_run_with_progress(settings, err.is_terminal, metrics_port))
    _finish(result, json_out, slo)


def simulate(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free one).")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    service_ms: Annotated[float, typer.Option(help="Mean service time.")] = 0.0,
    distribution: Annotated[str, typer.Option(help="fixed, exponential or lognormal.")] = "fixed",
    capacity: Annotated[int, typer.Option(help="Requests served at once (0 = unbounded).")] = 0,
    error_rate: Annotated[float, typer.Option(help="Share answered 500.")] = 0.0,
    slow_rate: Annotated[float, typer.Option(help="Share answered slowly.")] = 0.0,
    slow_ms: Annotated[float, typer.Option(help="Extra time of a slow answer.")] = 0.0,
    reset_rate: Annotated[float, typer.Option(help="Share whose connection is reset.")] = 0.0,
    stall_every: Annotated[str | None, typer.Option(help="A stall starts every ...")] = None,
    stall_for: Annotated[str | None, typer.Option(help="... and lasts this long.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random draws.")] = 0,
    cert_file: Annotated[Path | None, typer.Option(help="Serve https: certificate (PEM).")
                         ] = None,
    key_file: Annotated[Path | None, typer.Option(help="... and its private key (PEM).")
                        ] = None,
) -> None:  # fmt: skip
    """Serve HTTP on 127.0.0.1 with a service-time and fault model, until Ctrl-C."""
    from lab.harness.aio import new_runner
    from lab.harness.loadgen import parse_duration
    from lab.harness.simulate import ServerModel, serve_forever, server_tls

    if (cert_file is None) != (key_file is None):
        raise ConfigError("--cert-file and --key-file go together")
    tls = server_tls(str(cert_file), str(key_file)) if cert_file and key_file else None

    if (stall_every is None) != (stall_for is None):
        raise ConfigError("--stall-every and --stall-for go together")
    model = ServerModel(
        service_s=service_ms / 1000, distribution=distribution, capacity=capacity,
        error_rate=error_rate, slow_rate=slow_rate, slow_extra_s=slow_ms / 1000,
        reset_rate=reset_rate,
        stall_every_s=parse_duration(stall_every, "--stall-every") if stall_every else 0.0,
        stall_for_s=parse_duration(stall_for, "--stall-for") if stall_for else 0.0,
        seed=seed,
    )  # fmt: skip
    with new_runner() as runner, contextlib.suppress(KeyboardInterrupt):
        runner.run(serve_forever(model, host, port, tls))
