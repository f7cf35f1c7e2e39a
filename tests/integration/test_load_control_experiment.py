"""The load-control experiment, small: behaviour (counts, shares), never speed."""

from __future__ import annotations

import asyncio

import aiohttp
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.experiments import EXPERIMENTS
from lab.experiments.load_control import tables
from lab.experiments.load_control.monitoring_endpoint import STACKS, VARIANTS, endpoint_process
from lab.experiments.load_control.monitoring_stages import STAGES
from lab.harness.loadgen import LoadSettings, run_load
from tests.experiment_frames import SessionFrames


@pytest.fixture(scope="module")
def frame(frames: SessionFrames) -> pd.DataFrame:
    return frames("load_control")


def test_limiters_shed_where_the_unprotected_server_times_out(frame: pd.DataFrame) -> None:
    summary = tables.convergence_summary(frame)
    table = summary[summary.scenario == "step"].set_index("variant")
    assert table.loc["no limiter", "timed_out_share"] > 0.5
    for variant in ("fixed(C)", "vegas"):
        assert table.loc[variant, "timed_out_share"] == 0
        assert table.loc[variant, "rejected_share"] > 0.3


def test_over_http_the_limiter_answers_503_and_no_limiter_never_does(frame: pd.DataFrame) -> None:
    table = tables.overload_summary(frame).set_index("variant")
    assert table.loc["no limiter", "rejected_share"] == 0
    assert table.loc["vegas", "rejected_share"] > 0
    assert table.loc["vegas", "goodput_rps"] > 0
    limits = frame[(frame.part == "overload") & (frame.kind == "limit")]
    assert set(limits.variant) == {"vegas"}  # only a limiter has a limit history


def test_every_part_leaves_its_rows(frame: pd.DataFrame) -> None:
    quantiles = tables.quantile_summary(frame)
    assert set(quantiles.q) == {0.5, 0.95, 0.99}
    assert (quantiles.hdr_ms > 0).all() and (quantiles.prometheus_ms > 0).all()
    overhead = tables.overhead_summary(frame)
    assert "asyncio.Semaphore" in set(overhead.variant) and len(overhead) == 5
    monitoring = tables.monitoring_summary(frame)
    assert set(monitoring["stack"]) == set(STACKS)
    assert (monitoring.cpu_us_per_request > 0).all()
    assert len(tables.targets(frame)) == 7  # three with limits, four recording forms
    assert len(tables.monitoring_stages(frame)) == len(STAGES)  # every stage timed
    experiment = EXPERIMENTS["load_control"]
    assert len(experiment.figures(frame)) == 3
    assert next(caption for caption, _ in experiment.tables(frame)).startswith("The issue's")


@pytest.mark.parametrize(
    ("stack", "variant"),
    [
        (stack, variant)
        for stack in STACKS
        for variant in VARIANTS[stack]
        if variant.startswith("metrics")
    ],
)
def test_the_request_counter_matches_what_the_load_generator_sent(stack: str, variant: str
                                                                  ) -> None:  # fmt: skip
    async def drive(url: str) -> tuple[int, float]:
        result = await run_load(LoadSettings(url + "items/3", mode="closed", users=8,
                                             duration_s=0.5))  # fmt: skip
        async with aiohttp.ClientSession() as session, session.get(url + "metrics") as reply:
            text = await reply.text()
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "http_requests_total" and sample.labels["route"].startswith("/items")
        )
        return result.requests, counted

    with endpoint_process(stack, variant) as url:
        sent, counted = asyncio.run(drive(url))
    assert sent > 0 and counted == sent  # every request counted once, none lost


def test_a_real_prometheus_gave_the_quantiles_too(frame: pd.DataFrame, prometheus_up: None
                                                 ) -> None:  # fmt: skip
    """The in-process server was scraped by `lab services up`'s Prometheus, and
    histogram_quantile over the run answered for every variant and quantile."""
    quantiles = tables.quantile_summary(frame)
    assert "promql_ms" in quantiles and (quantiles.promql_ms > 0).all()
