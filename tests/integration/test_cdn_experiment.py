"""The static-assets experiment end to end, small: what the browser fetched on each visit
(counts and bytes, not times), what the pipeline saved, and that both handlers answered."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments.cdn import measure, tables
from tests.experiment_frames import SessionFrames


@pytest.fixture(scope="module")
def frame(chromium: None, frames: SessionFrames) -> pd.DataFrame:
    return frames("cdn")


def _visit(frame: pd.DataFrame, variant: str, visit: str) -> pd.Series:
    rows = frame[(frame.part == "browser") & (frame.variant == variant) & (frame.visit == visit)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_unoptimized_repeat_visit_revalidates_everything(frame: pd.DataFrame) -> None:
    first, repeat = _visit(frame, "none", "first"), _visit(frame, "none", "repeat")
    assert first.images_requested == 8 and first.from_cache == 0
    assert repeat.requests == first.requests
    assert repeat.not_modified == repeat.requests and repeat.from_cache == 0


def test_optimized_repeat_visit_takes_assets_from_the_cache(frame: pd.DataFrame) -> None:
    first, repeat = _visit(frame, "all", "first"), _visit(frame, "all", "repeat")
    assert 0 < first.images_requested < 8  # lazy: the rest are below the fold
    assert repeat.from_cache == repeat.requests - 1  # all but the page itself
    assert repeat.not_modified == 1  # the page, revalidated
    targets = tables.targets(frame)
    assert set(targets.target) == {
        "repeat visit / first visit, optimized page",
        "first visit, lazy + WebP/AVIF / unoptimized first visit",
    }
    assert targets.met.all(), targets.to_string()  # byte counts, not times


def test_every_variant_and_twin_is_smaller_than_its_original(frame: pd.DataFrame) -> None:
    savings = tables.savings_summary(frame)
    smaller = savings[~savings.representation.str.startswith("original")]
    assert len(smaller) and (smaller.vs_original < 1).all()
    assert {"br", "gzip"} <= set(savings.representation)
    assert "webp 960w" in set(savings.representation)


def test_both_handlers_answered_every_request(frame: pd.DataFrame) -> None:
    rates = tables.throughput_summary(frame)
    assert len(rates) == len(measure.THROUGHPUT_CASES) * 3
    assert (rates.errors == 0).all() and (rates.rps > 0).all()
    assert not (frame.part == "skipped").any()
