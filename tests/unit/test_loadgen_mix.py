"""The request mix: weights honoured, ids skewed as asked, the same for the same seed."""

from __future__ import annotations

from collections import Counter

import pytest

from lab.errors import ConfigError
from lab.harness.loadgen import LoadSettings, RequestMix, Schedule, parse_mix
from lab.harness.loadgen.http1 import HttpTarget
from lab.harness.loadgen.workers import split_settings


def test_weights_are_honoured() -> None:
    mix = RequestMix((("/a/{id}", 3.0), ("/b", 1.0)), ids=10, size=20_000)
    kinds = Counter(path.split("/")[1] for path in mix.path_list())
    assert kinds["a"] + kinds["b"] == 20_000
    assert 0.72 < kinds["a"] / 20_000 < 0.78


def test_uniform_and_zipf_ids() -> None:
    uniform = Counter(RequestMix((("/u/{id}", 1.0),), ids=4, size=40_000).path_list())
    assert set(uniform) == {"/u/1", "/u/2", "/u/3", "/u/4"}
    assert max(uniform.values()) / min(uniform.values()) < 1.1
    skewed = Counter(RequestMix((("/u/{id}", 1.0),), ids=100, zipf_s=1.2, size=40_000).path_list())
    ranked = [path for path, _ in skewed.most_common(3)]
    assert ranked == ["/u/1", "/u/2", "/u/3"]


def test_same_seed_same_requests_and_headers_kept() -> None:
    mix = RequestMix((("/x/{id}", 1.0), ("/y", 2.0)), seed=5, size=50)
    assert mix.path_list() == RequestMix(mix.paths, seed=5, size=50).path_list()
    assert mix.path_list() != RequestMix(mix.paths, seed=6, size=50).path_list()
    raw = mix.requests(HttpTarget("127.0.0.1", 8000, "/"), "GET", {"X-Test": "1"}, b"")
    assert len(raw) == 50 and all(r.startswith(b"GET /") and b"X-Test: 1" in r for r in raw)


def test_workers_draw_different_sequences() -> None:
    settings = LoadSettings("http://127.0.0.1:1/", schedule=Schedule.constant(100, 1),
                            mix=RequestMix((("/u/{id}", 1.0),), size=100))  # fmt: skip
    first, second = (split_settings(settings, 2, i).mix for i in (0, 1))
    assert first is not None and second is not None
    assert first.path_list() != second.path_list()


@pytest.mark.parametrize("paths", [(), (("no-slash", 1.0),), (("/a", 0.0),), (("/a/{name}", 1.0),)])
def test_bad_mixes_are_refused(paths: tuple[tuple[str, float], ...]) -> None:
    with pytest.raises(ConfigError):
        RequestMix(paths)


def test_parse_mix() -> None:
    mix = parse_mix(["/api/users/{id}:6", "/api/users/{id}/summary:2", "/healthz"], ids=50)
    assert mix.paths == (("/api/users/{id}", 6.0), ("/api/users/{id}/summary", 2.0),
                         ("/healthz", 1.0))  # fmt: skip
    assert mix.ids == 50
