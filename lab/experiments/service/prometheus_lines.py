"""The hold's SLO lines as Prometheus computes them from the service's own metrics.

The experiment judges its lines from the load generator's HdrHistogram, which times each
request from when it was due. Beside them, it asks the Prometheus that ``lab services
up`` runs (it scrapes every ``lab serve`` each second) for the same lines over the same
window, with PromQL: ``histogram_quantile`` over the service's request histogram, and
rates of its request counter. The two differ by design: the service times a request
from when its handler starts, without the queueing in front of it, and its quantiles
are interpolated inside histogram buckets.
"""

from __future__ import annotations

from lab.config import endpoints
from lab.errors import ServiceUnavailableError
from lab.harness.promql import instant_value, quantile_ms, summed_rate
from lab.harness.services.probes import probe
from lab.harness.services.prometheus_native import instance_of

__all__ = ["PROMQL_LINES", "prometheus_lines", "prometheus_totals"]

#: Requests the experiment's own machinery makes, left out (samples and scrapes).
_OWN_ROUTES = 'route!~"/metrics|/api/_stats|/healthz"'
_QUANTILES = {"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}


def _expressions(selector: str, window: str) -> dict[str, str]:
    def rate(metric: str, extra: str = "") -> str:
        return summed_rate(metric, (selector, _OWN_ROUTES, extra), window)

    lines = {metric: quantile_ms(q, (selector, _OWN_ROUTES), window)
             for metric, q in _QUANTILES.items()}  # fmt: skip
    lines["throughput_rps"] = rate("http_requests_total", 'status!="5xx"')
    failed = rate("http_requests_total", 'status="5xx"')
    lines["error_rate_percent"] = f"100 * ({failed} or vector(0)) / {rate('http_requests_total')}"
    return lines


#: The PromQL of each line, for the service at ``instance`` over a window (the report
#: prints it beside the figures).
PROMQL_LINES = _expressions('service="lab-serve",instance="HOST:PORT"', "HOLD")


def _selector(base_url: str) -> str:
    return f'service="lab-serve",instance="{instance_of(base_url)}"'


def prometheus_lines(base_url: str, start_unix_s: float, end_unix_s: float) -> dict[str, float]:
    """``{metric: value}`` for the service at ``base_url`` over ``[start, end]``; empty
    when no Prometheus answers (``lab services up`` starts one)."""
    ep = endpoints()
    if not probe("prometheus", ep, timeout=2.0).healthy:
        return {}
    window = f"{max(round(end_unix_s - start_unix_s), 2)}s"
    found = {}
    for metric, expr in _expressions(_selector(base_url), window).items():
        try:
            found[metric] = instant_value(ep.prometheus_url, expr, end_unix_s)
        except ServiceUnavailableError:
            return {}
    return found


def prometheus_totals(base_url: str, at_unix_s: float) -> dict[str, float]:
    """The service's request counter as Prometheus scraped it last before ``at_unix_s``:
    ``{"requests": all, "5xx": answered with a 5xx}``, the experiment's own routes left
    out; empty when no Prometheus answers. Asked a scrape interval or more after the
    load ended, these are the totals of a service started for the load."""
    ep = endpoints()
    if not probe("prometheus", ep, timeout=2.0).healthy:
        return {}

    def total(extra: str = "", none: str = "") -> float:
        matchers = ",".join(m for m in (_selector(base_url), _OWN_ROUTES, extra) if m)
        return instant_value(
            ep.prometheus_url, f"sum(http_requests_total{{{matchers}}}){none}", at_unix_s
        )

    try:
        return {"requests": total(), "5xx": total('status="5xx"', " or vector(0)")}
    except ServiceUnavailableError:
        return {}
