"""PromQL through Prometheus' HTTP API, for experiments: one instant value at a time.

Synchronous (``urllib``): experiments call it between loads, outside any event loop.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from lab.errors import ServiceUnavailableError

__all__ = ["instant_value", "instant_values", "quantile_ms", "summed_rate"]


def summed_rate(metric: str, matchers: Sequence[str], window: str, by: str = "") -> str:
    """``sum [by (by)] (rate(metric{matchers}[window]))``; empty matchers are left out."""
    labels = ",".join(matcher for matcher in matchers if matcher)
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({metric}{{{labels}}}[{window}]))"


def quantile_ms(q: float, matchers: Sequence[str], window: str) -> str:
    """The ``q`` quantile of the request histogram, in milliseconds."""
    buckets = summed_rate("http_request_duration_seconds_bucket", matchers, window, by="le")
    return f"1000 * histogram_quantile({q}, {buckets})"


def instant_values(url: str, expr: str, at_unix_s: float, timeout_s: float = 5.0
                   ) -> list[float]:  # fmt: skip
    """Every value of ``expr`` at ``at_unix_s``: one per series of a vector (none when it
    is empty), or the scalar. A query Prometheus refuses raises ``ValueError`` with its
    message; an unreachable Prometheus raises ``ServiceUnavailableError``."""
    query = urllib.parse.urlencode({"query": expr, "time": f"{at_unix_s:.3f}"})
    try:
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=timeout_s) as got:
            body = json.load(got)
    except urllib.error.HTTPError as error:  # 400/422: a bad expression
        detail = json.load(error).get("error", str(error))
        raise ValueError(f"Prometheus refused {expr!r}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ServiceUnavailableError("prometheus", f"no answer from {url} ({error})") from None
    data = body["data"]
    if data["resultType"] == "scalar":
        return [float(data["result"][1])]
    return [float(sample["value"][1]) for sample in data["result"]]


def instant_value(url: str, expr: str, at_unix_s: float, timeout_s: float = 5.0) -> float:
    """The one value of ``expr`` at ``at_unix_s``; NaN when the vector is empty, and a
    ``ValueError`` when it holds several series (aggregate them)."""
    values = instant_values(url, expr, at_unix_s, timeout_s)
    if len(values) > 1:
        raise ValueError(f"{expr!r} gave {len(values)} series; aggregate it to one")
    return values[0] if values else math.nan
