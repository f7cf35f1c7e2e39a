"""The overload part's figures from a hand-made load result and samples: what it
served and shed, the recovery, the alert's delay and the memory."""

from __future__ import annotations

import math
from collections import Counter

from lab.experiments.service.overload import fast_burn_seconds, overload_figures, recovery_by_line
from lab.harness.loadgen import LoadResult


def _second(t: int, rps: int, errors: int, p99_ms: float) -> dict[str, object]:
    return {"t_s": t, "rps": rps, "errors": errors, "ok_rps": rps - errors, "p99_ms": p99_ms}


def test_overload_figures_from_seconds_samples_and_alerts() -> None:
    # before: 0-1, overload: 2-4, after: 5-9
    seconds = [_second(0, 100, 0, 10), _second(1, 100, 0, 10), _second(2, 250, 0, 400),
               _second(3, 250, 30, 900), _second(4, 250, 40, 950), _second(5, 100, 5, 2000),
               _second(6, 100, 0, 20), _second(7, 100, 0, 20), _second(8, 100, 0, 20),
               _second(9, 100, 0, 20)]  # fmt: skip
    samples = [{"t_s": t + 0.5, "limiter_rejected": rejected, "limiter_timed_out": late,
                "service_rss_mb": rss}
               for t, rejected, late, rss in ((0, 0, 0, 100), (1, 0, 0, 101), (3, 50, 5, 180),
                                              (5, 60, 10, 150), (8, 60, 10, 120))]  # fmt: skip
    result = LoadResult(settings={}, requests=1650, status_counts=Counter({"200": 1575, "503": 70}),
                        error_counts=Counter({"status 503": 70, "timeout": 5}))  # fmt: skip
    alerts = {2: [], 3: [], 5: ["availability 14.4x", "availability 6x"], 6: ["latency 6x"],
              7: ["availability 14.4x"]}  # fmt: skip
    fired = fast_burn_seconds(alerts)
    assert fired == [5, 7]
    figures = overload_figures(result, seconds, samples, (2.0, 5.0), fired)
    assert figures["requests"] == 750 and figures["achieved_rps"] == 250
    assert figures["errors"] == 75  # from the overload's start to the end
    assert figures["limiter_refusals"] == 70  # 60 at once, 10 after waiting their second
    assert figures["limiter_timed_out_delta"] == 10
    assert (figures["rss_before_mb"], figures["rss_peak_mb"], figures["rss_last_mb"]) == (
        101, 180, 120)  # fmt: skip
    assert figures["generator_5xx"] == 70 and figures["generator_failed"] == 75
    assert figures["generator_answered"] == 1645  # the timeouts got no status
    assert figures["first_failure_s"] == 3
    assert figures["fast_burn_after_failures_s"] == 2  # fired at 5, failures from 3
    assert figures["fast_burn_seconds"] == 2


def test_no_failure_and_no_alert_give_nan_not_zero() -> None:
    seconds = [_second(t, 100, 0, 10) for t in range(6)]
    result = LoadResult(settings={}, requests=600)
    figures = overload_figures(result, seconds, [], (1.0, 3.0), [])
    for name in ("first_failure_s", "fast_burn_after_failures_s", "fast_burn_first_s",
                 "limiter_refusals", "rss_peak_mb"):  # fmt: skip
        assert figures[name] != figures[name], name  # NaN: not measured, not 0
    assert figures["fast_burn_seconds"] == 0 and figures["errors"] == 0


def test_recovery_per_line_counts_three_good_seconds_in_a_row_after_the_overload() -> None:
    lines = [("latency_p99_ms", "below", 1000.0), ("cpu_percent", "below", 70.0),
             ("throughput_rps", "above", 90.0), ("latency_p999_ms", "below", 2000.0)]  # fmt: skip
    seconds = [{**_second(t, 100, 0, 20), "cpu_percent": 50.0} for t in range(12)]
    seconds[5].update(errors=3, p99_ms=3000)  # the overload ends at 5
    seconds[6]["p99_ms"] = 1500
    seconds[7]["cpu_percent"] = 90.0
    seconds[8]["cpu_percent"] = float("nan")  # no sample that second: not held against it
    seconds[6].update(rps=50, ok_rps=50)
    back = recovery_by_line(seconds, 5.0, lines)
    assert back["errors"] == 1  # 6, 7, 8
    assert back["latency_p99_ms"] == 2  # 7, 8, 9
    assert back["cpu_percent"] == 3  # 8, 9, 10
    assert back["throughput_rps"] == 2  # 7, 8, 9
    seconds[7]["errors"] = seconds[10]["errors"] = 1  # never three good seconds in a row
    assert math.isnan(recovery_by_line(seconds, 5.0, lines)["errors"])
    assert "latency_p999_ms" not in back  # not in the timeline per second


def test_recovery_of_throughput_counts_answers_without_error() -> None:
    # 100 requests ended every second; from 6 to 8, 20 of them were errors, fast: the
    # throughput line (above 90) is met only from 9, when all 100 are answered.
    seconds = [_second(t, 100, 20 if 6 <= t <= 8 else 0, 20) for t in range(14)]
    back = recovery_by_line(seconds, 5.0, [("throughput_rps", "above", 90.0)])
    assert back["throughput_rps"] == 4  # 9, 10, 11
    assert back["errors"] == 4
