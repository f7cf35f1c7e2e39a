"""The ``lab`` command. It catches LabError, prints its sentence and exits non-zero."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from lab.errors import ConfigError, LabError

if TYPE_CHECKING:
    from lab.harness.services import ServiceStatus

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
services_app = typer.Typer(
    no_args_is_help=True, help="Start, stop and check Redis, PostgreSQL, Kafka, Prometheus."
)
app.add_typer(services_app, name="services")
console = Console()
err = Console(stderr=True)


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import PackageNotFoundError, version

        try:
            console.print(f"lab {version('perflab')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            console.print("lab (not installed: no version)")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:  # fmt: skip
    """Performance patterns measured against real servers: experiments, load tests,
    reports, and the servers they need."""


Only = Annotated[
    str | None,
    typer.Option("--only", help="Comma-separated subset: redis,postgres,kafka,prometheus."),
]


RedisCluster = Annotated[
    bool,
    typer.Option("--redis-cluster", help="Also the opt-in Redis Cluster: 3 masters, 3 replicas "
                 "on ports 7001-7006 (the caching experiment's failover part)."),
]  # fmt: skip


KafkaBrokers = Annotated[
    int,
    typer.Option("--kafka-brokers", help="3: also the opt-in replicated Kafka (3 KRaft nodes on "
                 "9192/9194/9196, replication factor 3, min.insync.replicas 2) for the "
                 "messaging experiment's broker-failure part; 1: only the single broker."),
]  # fmt: skip


def _chosen(only: str | None, redis_cluster: bool, kafka_brokers: int = 1) -> list[str]:
    from lab.harness.services import parse_only

    if kafka_brokers not in (1, 3):
        raise ConfigError(f"--kafka-brokers takes 1 or 3, not {kafka_brokers}")
    return (parse_only(only) + (["redis-cluster"] if redis_cluster else [])
            + (["kafka-cluster"] if kafka_brokers == 3 else []))  # fmt: skip


def _services_table(rows: list[ServiceStatus]) -> Table:
    table = Table("service", "endpoint", "started by", "pid", "health", "version")
    for row in rows:
        health = (
            "[green]healthy[/]" if row.health.healthy else f"[red]down[/] ({row.health.detail})"
        )
        table.add_row(
            row.service, row.endpoint, row.started_by, str(row.pid or "-"), health, row.version
        )
    return table


@services_app.command("up")
def services_up(
    only: Only = None, redis_cluster: RedisCluster = False, kafka_brokers: KafkaBrokers = 1
) -> None:
    """Reuse healthy servers; start the missing ones natively (or with Docker)."""
    from lab.harness.services import up

    chosen = _chosen(only, redis_cluster, kafka_brokers)
    rows = up(chosen, on_progress=lambda line: err.print(line))
    console.print(_services_table(rows))


@services_app.command("down")
def services_down(
    only: Only = None, redis_cluster: RedisCluster = False, kafka_brokers: KafkaBrokers = 1
) -> None:
    """Stop the servers that `lab services up` started; external ones are left alone.
    Without --only, the opt-in clusters are stopped too."""
    from lab.harness.services import down

    everything = only is None
    stopped = down(_chosen(only, redis_cluster or everything, 3 if everything else kafka_brokers))
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing of ours was running'}")


@services_app.command("status")
def services_status(
    only: Only = None, redis_cluster: RedisCluster = False, kafka_brokers: KafkaBrokers = 1
) -> None:
    """One row per service; exits 1 when any is not healthy."""
    from lab.harness.services import status
    from lab.harness.services.manager import HOW_TO_POINT

    rows = status(_chosen(only, redis_cluster, kafka_brokers))
    console.print(_services_table(rows))
    unhealthy = [row for row in rows if not row.health.healthy]
    for row in unhealthy:
        flag = {"redis-cluster": "--redis-cluster", "kafka-cluster": "--kafka-brokers 3"}.get(
            row.service, f"--only {row.service}")  # fmt: skip
        err.print(
            f"{row.service} is not answering at {row.endpoint} ({row.health.detail}); "
            f"start it with `lab services up {flag}` "
            f"or point {HOW_TO_POINT[row.service]} at a running server"
        )
    if unhealthy:
        raise typer.Exit(1)


def _register_loadtest() -> None:
    from lab.cli.slo import slo_app

    app.add_typer(slo_app, name="slo")
    from lab.cli.loadtest import loadtest, simulate

    app.command("loadtest")(loadtest)
    app.command("simulate")(simulate)
    from lab.cli.static import assets_app, serve_static

    app.add_typer(assets_app, name="assets")
    app.command("serve-static")(serve_static)
    from lab.cli.serve import serve

    app.command("serve")(serve)
    from lab.cli.suite import headlines_command, report, run

    app.command("run")(run)
    app.command("report")(report)
    app.command("headlines")(headlines_command)


_register_loadtest()


def main() -> None:
    """Entry point: LabError becomes one line on stderr and exit 1 (2 for usage errors)."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except LabError as error:
        err.print(f"lab: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2 if isinstance(error, ConfigError) else 1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err.print("lab: aborted")
        sys.exit(130)
    except Exception as error:
        # Usage errors (an unknown option, a value out of range) are click's exceptions,
        # which typer may vendor: recognised by what they carry, shown as one line.
        code, message = getattr(error, "exit_code", None), getattr(error, "format_message", None)
        if isinstance(code, int) and callable(message):
            err.print(f"lab: {message()}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(code)
        raise


if __name__ == "__main__":
    main()
