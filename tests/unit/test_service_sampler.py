"""The service experiment's sampler: the machine's readings every tick, even while the
service is too slow to answer its stats in time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from lab.experiments.service.process import Sampler
from tests.polling import eventually

_STATS = {"process": {"cpu_s": 1.0, "rss_bytes": 2**20}, "db": {}, "followers": {
    "breaker": "closed", "short_circuited": 0}}  # fmt: skip


class _SlowStats(BaseHTTPRequestHandler):
    """``/api/_stats`` answered after ``delay_s``: a service under overload."""

    delay_s = 1.6

    def do_GET(self) -> None:
        time.sleep(self.delay_s)
        body = orjson.dumps(_STATS)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowStats)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_slow_service_leaves_no_second_without_the_machine_readings(slow_service: str) -> None:
    # a DSN nothing listens on: the database column is empty, the rest goes on
    sampler = Sampler(slow_service, every_s=0.25, dsn="postgresql://nobody@127.0.0.1:9/none")
    sampler.start()
    ticked = eventually(lambda: len(sampler._machine) >= 12, polls=1200, every_s=0.05)
    samples = sampler.stop()
    assert ticked, "the machine thread stopped ticking"
    machine = [s for s in samples if "cpu_percent" in s]
    answered = [s for s in samples if "service_rss_mb" in s]
    assert len(machine) >= 12
    # the ticks are the sampling's, in order, and a reading belongs to its own tick
    assert [s["t_s"] for s in samples] == sorted(s["t_s"] for s in samples)
    # counted at the server's side: the sampler's own stats request, when one is open
    assert {s["service_connections"] for s in machine} <= {0, 1}
    # each stats answer took 1.6 s, six ticks' worth: the machine was read at ticks where
    # the service had not answered yet (a sampler that waits for it reads both together)
    assert 1 <= len(answered) < len(machine)
    asked = [s for s in samples if "db_connections_percent" in s]
    assert asked and all(s["db_connections_percent"] is None for s in asked)
