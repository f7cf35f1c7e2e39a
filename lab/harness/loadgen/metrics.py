"""``lab loadtest --metrics-port``: the running generator's own figures, for Prometheus to
scrape while a long run goes on. Read from the live result at each scrape, so nothing is
added to a request's path.

* ``lab_loadtest_scheduled_total``, ``lab_loadtest_requests_total`` (ended),
  ``lab_loadtest_dropped_total`` (backlog full);
* ``lab_loadtest_errors_total{kind}`` and ``lab_loadtest_responses_total{status}``;
* ``lab_loadtest_latency_seconds``: a histogram of latency from the intended send time,
  with buckets from 1 ms to 10 s, filled from the run's HdrHistogram.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from lab.errors import ConfigError
from lab.harness.loadgen.result import LoadResult
from lab.harness.services.prometheus_native import registered_target

__all__ = ["BUCKETS_MS", "LoadCollector", "serve_metrics"]

BUCKETS_MS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
_LE = {edge: floatToGoString(edge / 1000) for edge in BUCKETS_MS}  # type: ignore[no-untyped-call]


class LoadCollector(Collector):
    def __init__(self, live: Callable[[], LoadResult | None]) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        result = self.live()
        if result is None:
            return
        for name, text, value in (
            ("scheduled", "Requests the schedule has made due", result.scheduled),
            ("requests", "Requests that ended (a response or an error)", result.requests),
            ("dropped", "Requests never sent: the backlog was full", result.dropped),
        ):
            yield CounterMetricFamily(f"lab_loadtest_{name}", text, value=value)
        errors = CounterMetricFamily("lab_loadtest_errors", "Failed requests", labels=["kind"])
        for kind, count in sorted(result.error_counts.items()):
            errors.add_metric([kind], count)
        yield errors
        responses = CounterMetricFamily("lab_loadtest_responses", "Responses by status",
                                        labels=["status"])  # fmt: skip
        for status, count in sorted(result.status_counts.items()):
            responses.add_metric([status], count)
        yield responses
        latency = result.latency
        total = latency.count
        buckets = [(_LE[edge], total - latency.count_at_or_above_ms(edge)) for edge in BUCKETS_MS]
        mean_s = latency.summary().mean / 1000 if total else 0.0
        yield HistogramMetricFamily(
            "lab_loadtest_latency_seconds", "Latency from each request's intended send time",
            buckets=[*buckets, ("+Inf", total)], sum_value=mean_s * total,
        )  # fmt: skip


@contextmanager
def serve_metrics(port: int, live: Callable[[], LoadResult | None],
                  host: str = "127.0.0.1") -> Iterator[str]:  # fmt: skip
    """Serve ``/metrics`` on ``host:port`` (a thread of its own) while the block runs;
    yields its URL."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(LoadCollector(live))
    try:
        server, thread = start_http_server(port, host, registry)
    except OSError as error:
        raise ConfigError(f"--metrics-port {port}: cannot listen ({error.strerror})") from None
    try:
        with registered_target("lab-loadgen", f"{host}:{server.server_port}"):
            yield f"http://{host}:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
