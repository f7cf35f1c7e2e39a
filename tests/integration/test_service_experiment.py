"""The reference-service experiment end to end, quick: every SLO line judged for both
variants, a rate search, and a fault run in which the breaker opens and Redis comes back.
Assertions are about what happened (lines, states, counts), not how fast."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments.service import measure, tables
from lab.experiments.service.profile import OTHER, STAGES
from lab.harness.slo import load_slo
from tests.experiment_frames import SessionFrames


@pytest.fixture(scope="module")
def frame(all_up: None, frames: SessionFrames) -> pd.DataFrame:
    return frames("service")


def test_every_slo_line_is_judged_for_both_variants(frame: pd.DataFrame) -> None:
    verdicts = tables.verdicts(frame)
    lines = {target.metric for target in load_slo(measure.ServiceExperimentSettings().slo_path)}
    for variant in ("optimized", "naive"):
        judged = verdicts[verdicts.variant == variant]
        assert set(judged.metric) == lines
    # counted at the service's sockets: about the generator's 600 connections, and the
    # sampler's and Prometheus' own. The naive service times requests out, and the
    # generator replaces a timed-out connection before the service has closed the old
    # one: its count runs higher (648 in a fresh-clone run at 914bc6c).
    users = verdicts[verdicts.metric == "concurrent_users"].set_index("variant").measured
    assert 500 < users["optimized"] <= 600 * 1.05
    assert 500 < users["naive"] <= 600 * 2


def test_at_the_target_rate_the_optimized_service_does_better_than_the_naive(
    frame: pd.DataFrame,
) -> None:
    """What the experiment exists to show, in a short run too (the full run's target rate,
    5 % over the throughput line): the optimized service meets more lines than the naive,
    or, where the machine cannot hold the SLO's rate for either, as many, each of the
    latency, throughput and CPU lines by a wider margin. Every line for the optimized
    service is not asserted: in a 3 s hold on this shared 2-core machine it missed one
    line in one of three runs, and on a machine of this kind at half the speed
    (redis-benchmark 50k GETs/s against 105k) it held 803 of the 1,050 requests/s with
    p99 1.04 s, against the naive one's 622 and 1.96 s (9cf6820)."""
    targets = tables.targets(frame).set_index("variant")
    optimized, naive = targets.loc["optimized"], targets.loc["naive"]
    assert not naive.met, tables.verdicts(frame).to_string()
    if optimized.lines_passed_every_repeat > naive.lines_passed_every_repeat:
        return
    assert optimized.lines_passed_every_repeat == naive.lines_passed_every_repeat
    margins = tables.verdicts(frame).pivot(index="metric", columns="variant", values="margin")
    lines = ["latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "throughput_rps",
             "cpu_percent"]  # fmt: skip
    better = margins.loc[lines, "optimized"] > margins.loc[lines, "naive"]
    assert better.all(), margins.to_string()


def test_the_naive_service_holds_no_pool_or_limiter(frame: pd.DataFrame) -> None:
    seconds = tables.timeline(frame)
    naive, optimized = seconds[seconds.variant == "naive"], seconds[seconds.variant == "optimized"]
    assert naive.pool_max.isna().all() and naive.limit.isna().all()
    assert optimized.pool_max.notna().any() and optimized.limit.notna().any()
    assert naive.rps.sum() > 0 and optimized.rps.sum() > 0


def test_the_search_reports_a_rate_per_variant(frame: pd.DataFrame) -> None:
    search = tables.search_summary(frame)
    assert set(search.variant) == {"optimized", "naive"}
    assert (search.max_rate_meeting_slo >= 0).all()


def test_the_breaker_opens_while_the_followers_service_is_down(frame: pd.DataFrame) -> None:
    seconds = tables.timeline(frame, "fault")
    assert "open" in set(seconds.breaker.dropna())
    assert seconds.short_circuited.max() > 0
    budget = tables.error_budget(frame)
    assert list(budget.objective) == ["availability", "latency"]  # slo.yaml's objectives
    assert (budget.requests > 0).all() and (budget.budget_spent >= 0).all()


def test_prometheus_reports_the_hold_beside_the_generator(
    frame: pd.DataFrame, prometheus_up: None
) -> None:
    """`lab services up`'s Prometheus answered the hold's PromQL for both variants. Its
    values are not asserted: a scrape of a service at 1,050 requests/s on these 2 cores
    can time out (1 s), leaving a 3 s hold without enough samples (one fresh-clone run
    at 75ee52f gave NaN)."""
    rows = tables.verdicts(frame)  # the judged lines exist for both variants
    assert set(rows.variant) == {"optimized", "naive"}
    verdicts = frame[(frame.part == "ramp") & (frame.kind == "verdict")]
    assert verdicts.prometheus_answered.map(lambda v: v in (True, "True")).all()
    beside = tables.prometheus_beside(frame)
    assert {"generator", "prometheus"} <= set(beside.columns)
    assert set(beside.metric) == {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
                                  "throughput_rps"}  # fmt: skip


def test_the_overload_leaves_the_service_up_and_is_watched(
    frame: pd.DataFrame, prometheus_up: None
) -> None:
    """3x the target rate, then the target rate: the service still answers its health
    check after, every second of the schedule is there, the generator's and Prometheus'
    counts are both there, and Prometheus' burn-rate alerts were read each second in the
    ramps and the overload (whether they fired is the experiment's finding, not asserted:
    it depends on what this machine could serve)."""
    summary = tables.overload_summary(frame).iloc[0]
    assert summary.alive_every_repeat
    assert summary.offered_rps == 3 * measure.ServiceExperimentSettings().target_rps
    assert summary.connections == measure.ServiceExperimentSettings().overload_connections
    seconds = tables.timeline(frame, "overload")
    assert seconds.rps.sum() > 0 and seconds.alerts.notna().all()
    assert len(seconds) >= 1 + 2 + 2  # before, overload, after (trimmed settings)
    row = frame[(frame.part == "overload") & (frame.kind == "summary")].iloc[0]
    # every request the generator got an answer to reached the service, which counted it
    assert row.prometheus_requests >= row.generator_answered > 0
    assert row.prometheus_5xx >= row.generator_5xx >= 0
    # each ramp and the overload was watched; a watch counts only where Prometheus had
    # evaluated the rules over that service (a short trimmed ramp may end before it did)
    ramps = frame[(frame.part == "ramp") & (frame.kind == "alerts")]
    assert sorted(ramps.variant) == ["naive", "optimized"]
    watched = {
        f"ramp, {r.variant}" for r in ramps.itertuples() if r.alerts_watched in (True, "True")
    }
    watched |= {"overload"} if row.alerts_watched in (True, "True") else set()
    alerts = tables.burn_alerts(frame)
    if watched:
        assert set(alerts.run) == watched and (alerts.scale == 60).all()
    else:
        assert alerts.alerts.iloc[0].startswith("not measured")


def test_the_profile_says_where_the_services_cpu_goes(frame: pd.DataFrame) -> None:
    """py-spy sampled the optimized service at the target rate on each event loop: every
    sample is in a known stage, the event loop and the HTTP server among them, and the CPU
    per request is counted from the service's own CPU time."""
    summary = tables.profile_summary(frame).set_index("event_loop")
    loops = measure.ServiceExperimentSettings().profile_loops
    assert set(summary.index) == set(loops)
    assert (summary.profiler_error == "").all(), summary.profiler_error
    assert (summary.samples > 0).all() and (summary.cpu_us_per_request > 0).all()
    assert summary.loc["uvloop", "cpu_vs_uvloop"] == 1.0
    stages = tables.profile_shares(frame, "stage")
    for loop in loops:
        shares = stages[stages.event_loop == loop]
        # the two largest stages (about 46 % and 13 % of samples in full runs); a small
        # one, like the handlers' 3 %, can get no sample in the suite's 2 s profile
        assert {"event loop", "aiohttp HTTP: parse, respond"} <= set(shares.stage)
        assert set(shares.stage) <= {stage for stage, _ in STAGES} | {OTHER}
        assert abs(shares.share_percent.sum() - 100.0) < 1e-6  # one repeat: one run's shares
        assert shares.share_percent.is_monotonic_decreasing
    rows = frame[(frame.part == "profile") & (frame.kind == "stage")]
    assert rows.groupby("event_loop").samples.sum().to_dict() == summary.samples.to_dict()
    functions = tables.profile_shares(frame, "function")
    assert 0 < len(functions) <= len(loops) * measure.ServiceExperimentSettings().profile_functions
