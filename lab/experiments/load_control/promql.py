"""The overload part's quantiles from a real Prometheus: the in-process server registers
itself with the Prometheus that ``lab services up`` runs (it scrapes every second), and
after the run ``histogram_quantile`` is asked over the run's window. Set beside the
same quantiles interpolated in Python from the same buckets, and an HdrHistogram of the
same requests."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from lab.config import endpoints
from lab.errors import ServiceUnavailableError
from lab.harness.promql import instant_value, quantile_ms
from lab.harness.services.prometheus_native import (
    instance_of,
    registered_target,
    wait_until_scraped,
)

__all__ = ["QUANTILES", "SERVICE", "promql_quantiles", "scraped"]

SERVICE = "lab-load-control"
QUANTILES = (0.5, 0.95, 0.99)


@asynccontextmanager
async def scraped(url: str, within_s: float = 10.0) -> AsyncIterator[bool]:
    """The server at ``url`` registered for scraping while the block runs, and scraped
    once before it starts; yields False (nothing registered) without a Prometheus of
    ``lab services up``."""
    prometheus = endpoints().prometheus_url
    with registered_target(SERVICE, instance_of(url)) as path:
        yield path is not None and await asyncio.to_thread(
            wait_until_scraped, prometheus, instance_of(url), within_s
        )


async def promql_quantiles(url: str, run_s: float) -> dict[float, float]:
    """``{q: milliseconds}`` from Prometheus over the last ``run_s`` seconds and the next
    scrape (waited for here); empty when Prometheus does not answer."""
    await asyncio.sleep(1.2)  # a scrape (every second) after the last request
    window = f"{math.ceil(run_s + 3.0)}s"
    matchers = (f'service="{SERVICE}"', f'instance="{instance_of(url)}"', 'route="/{tail}"')
    prometheus, now = endpoints().prometheus_url, time.time()
    found = {}
    for q in QUANTILES:
        expr = quantile_ms(q, matchers, window)
        try:
            found[q] = await asyncio.to_thread(instant_value, prometheus, expr, now)
        except ServiceUnavailableError:
            return {}
    return found
