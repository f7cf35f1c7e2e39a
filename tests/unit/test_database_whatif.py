"""The database notebook's what-if: the USL fit recovers known coefficients, recommends
the size where more connections stop paying, and bad input is a clear error."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.experiments.database import whatif

SIZES = (1, 2, 4, 8, 16, 32, 64)


def _usl(lam: float, sigma: float, kappa: float) -> dict[int, float]:
    return {n: lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in SIZES}


def test_a_retrograde_curve_is_recovered_with_its_peak() -> None:
    summary, points, _ = whatif.what_if(_usl(1000, 0.05, 0.002))
    row = summary.iloc[0]
    assert row.sigma == pytest.approx(0.05) and row.kappa == pytest.approx(0.002)
    assert row.peak_n == pytest.approx((0.95 / 0.002) ** 0.5)  # 21.8
    assert row.recommended_n <= row.peak_n
    assert list(points.fitted_rps) == pytest.approx(list(points.measured_rps))


def test_a_flat_curve_has_no_peak_and_recommends_where_it_flattens() -> None:
    summary, _, _ = whatif.what_if(_usl(1000, 0.5, 0.0), enough_percent=95)
    row = summary.iloc[0]
    assert row.kappa == 0 and row.peak_n != row.peak_n  # NaN: no peak
    # X(N) = 1000 N / (1 + 0.5 (N - 1)) reaches 95 % of X(64) = 1969 at N = 15 (14: 94.8 %)
    assert row.recommended_n == 15


def test_measurements_are_parsed_and_bad_ones_named() -> None:
    assert whatif.parse_measurements("1:500, 4:1800,16:3000.5") == {1: 500, 4: 1800,
                                                                     16: 3000.5}  # fmt: skip
    for bad in ("1-500", "0:500", "4:0", "x:1"):
        with pytest.raises(ConfigError, match="pool size:requests per second"):
            whatif.parse_measurements(bad)
    with pytest.raises(ConfigError, match="at least three pool sizes"):
        whatif.what_if({1: 100.0, 2: 180.0})


def test_the_stored_runs_users_are_offered_and_a_missing_count_is_named() -> None:
    rows = [{"part": "pool_size", "repeat": 0, "clients": c, "variant": "pool",
             "pool_size": n, "rps": 100.0 * n if n else 50.0, "p99_ms": 1.0}
            for c in (8, 32) for n in (0, 1, 2, 4)]  # fmt: skip
    frame = pd.DataFrame(rows)
    assert whatif.client_counts(frame) == [32, 8]
    assert whatif.stored_measurements(frame) == {1: 100.0, 2: 200.0, 4: 400.0}  # at 32
    with pytest.raises(ConfigError, match="at 32, 8 users, not 64"):
        whatif.stored_measurements(frame, 64)
