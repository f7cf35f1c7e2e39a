"""The caching "what if": the experiment's LRU simulation for the sizes and skew asked."""

from __future__ import annotations

import pytest

from lab.errors import ConfigError
from lab.experiments.caching.whatif import what_if


def test_a_bigger_cache_catches_more_and_never_beats_the_best_possible() -> None:
    table, figure = what_if(skew=1.1, keyspace=500, requests=5_000,
                            size_fractions=(0.01, 0.1, 0.5))  # fmt: skip
    zipf = table[table.distribution == "zipf"]
    assert list(zipf.cache_size) == [5, 50, 250]
    assert zipf.hit_ratio.is_monotonic_increasing
    assert (table.hit_ratio <= table.best_ratio + 0.02).all()
    uniform = table[table.distribution == "uniform"]
    assert (zipf.hit_ratio.to_numpy() > uniform.hit_ratio.to_numpy()).all()
    assert figure.axes


def test_more_skew_means_more_hits_at_one_size() -> None:
    tables = [what_if(skew=skew, keyspace=500, requests=5_000, size_fractions=(0.05,))[0]
              for skew in (0.5, 1.0, 1.5)]  # fmt: skip
    ratios = [table[table.distribution == "zipf"].hit_ratio.item() for table in tables]
    assert ratios == sorted(ratios) and ratios[0] < ratios[-1]


@pytest.mark.parametrize(("arguments", "words"), [
    ({"skew": 0}, "skew must be above 0"),
    ({"keyspace": 5}, "keyspace must be at least 10"),
    ({"size_fractions": (0.0,)}, "shares of the keyspace"),
])  # fmt: skip
def test_bad_arguments_say_what_is_accepted(arguments: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        what_if(**arguments)  # type: ignore[arg-type]
