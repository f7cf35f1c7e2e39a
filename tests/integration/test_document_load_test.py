"""The document's ``performance_test()``: ``LoadTester("http://localhost:8000")
.run_load_test("/api/users", 50, 60)``, against ``lab serve``, shortened to 3 s.

Its users send, wait for the answer, then pause 100 ms (closed loop). The lab's
generator runs that loop and the assertions are the document's printed result: the
requests made, all of them successful, and a rate no closed loop of 50 users pausing
100 ms could exceed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.harness.aio import new_runner
from lab.harness.loadgen import LoadSettings, run_load
from tests.integration.service_helpers import service_process

USERS, THINK_TIME_S, DURATION_S = 50, 0.1, 3.0


@pytest.fixture(scope="module")
def base(all_up: None) -> Iterator[str]:
    with service_process() as url:
        yield url


def test_the_documents_load_test_against_api_users(base: str) -> None:
    settings = LoadSettings(f"{base}/api/users", mode="closed", users=USERS,
                            think_time_s=THINK_TIME_S, duration_s=DURATION_S)  # fmt: skip
    with new_runner() as runner:
        result = runner.run(run_load(settings))
    # the document's printout: total, successful, failed, the success rate
    assert result.requests > USERS  # every user went round its loop more than once
    assert result.errors == 0 and dict(result.status_counts) == {"200": result.requests}
    assert result.succeeded == result.requests  # "Success Rate: 100.0%"
    # Each user pauses 100 ms after every answer, so no user sends more than one request
    # per 100 ms of the run (a count bound, whatever the machine's speed).
    assert result.requests <= USERS * (result.elapsed_s / THINK_TIME_S + 1)
    assert result.latency.count == result.requests
