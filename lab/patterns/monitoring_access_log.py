"""Request metrics recorded by aiohttp's access-log hook instead of a middleware.

An aiohttp middleware costs a request about a microsecond before it does anything (the
chain is looked up in an LRU cache and called through a ``functools.partial``); on a
handler that takes 40 µs of CPU, that alone is 3 % of the budget the lab gives request
metrics (5 %). aiohttp already times every request for its access log: the server reads
the loop's clock when a request's head is parsed and calls the access logger with the
response once it is written. :func:`metrics_access_logger` puts :class:`RequestMetrics`
there::

    web.run_app(app, access_log_class=metrics_access_logger(metrics), access_log=LOG)
    # or web.AppRunner(app, access_log_class=..., access_log=LOG)

What is recorded is the middleware's (``lab.patterns.monitoring``): the route template,
``<unmatched>`` for a path no route matched, ``OTHER`` for a non-standard method, the
status class, and the duration in the same buckets. It differs in three ways, each said
where it shows:

* every response the server sends is counted, whoever made it: a 404, a 405, a
  middleware's refusal (a limiter's 503), an exception turned into a 500, a 400 for a
  request that did not parse;
* the duration runs from the request's head being parsed to the response being
  written, so it includes writing the response (what a client waits for);
* ``http_requests_in_progress`` has no series: the access log has no start event. The
  load generator's and the service's own connection counts are the lab's measure of
  concurrency.

A handler cancelled because its client went away writes no response and is not counted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractAccessLogger

from lab.patterns.monitoring import RequestMetrics, aiohttp_recorder

if TYPE_CHECKING:
    from aiohttp.web import BaseRequest, StreamResponse

__all__ = ["ACCESS_LOG", "metrics_access_logger"]

#: aiohttp creates an access logger only when given a ``logging.Logger``; this one is
#: never written to.
ACCESS_LOG = logging.getLogger("lab.request_metrics")


def metrics_access_logger(metrics: RequestMetrics) -> type[AbstractAccessLogger]:
    """An access-logger class recording every request into ``metrics`` (pass it as
    ``access_log_class``, with ``access_log=ACCESS_LOG``)."""
    record = aiohttp_recorder(metrics)

    class RequestMetricsLog(AbstractAccessLogger):
        __slots__ = ()

        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            try:
                match_info = request.match_info  # type: ignore[attr-defined]
            except (AttributeError, AssertionError):  # a request that did not parse (400)
                match_info = None
            record(request.method, match_info, response.status, time)

        @property
        def enabled(self) -> bool:
            return True

    return RequestMetricsLog
