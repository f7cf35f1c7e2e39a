"""The spellings of performance-patterns.ja.md: those that cost nothing work (``ttl=``,
``order_by="created_at DESC"``, the document's SLO form); the others fail with a
message naming what to write instead."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

import lab.patterns
from lab.errors import ConfigError, DocumentNameError
from lab.harness.slo import Target, parse_slo
from lab.patterns import MemoryCache, cached
from lab.patterns.pool import DatabasePool
from lab.patterns.query import build_select, keyset_page

# --- @cached(ttl=...) ---------------------------------------------------------------------


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("ttl", [1800, 1800.0, timedelta(minutes=30)])
def test_ttl_is_seconds_or_a_timedelta(ttl: float | timedelta) -> None:
    clock, calls = Clock(), []

    @cached(MemoryCache(clock=clock), ttl=ttl, ttl_jitter=0, clock=clock)
    def profile(user_id: int) -> int:
        calls.append(user_id)
        return user_id

    profile(1)
    clock.now += 1799
    profile(1)
    clock.now += 2
    profile(1)
    assert calls == [1, 1]  # expired after 1800 s, not before


def test_ttl_s_still_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"cached\(ttl_s=...\) is now cached\(ttl=...\)"):
        decorate = cached(MemoryCache(), ttl_s=60)
    assert decorate(lambda x: x)(3) == 3


def test_the_documents_cached_without_a_store_says_what_to_write() -> None:
    with pytest.raises(ConfigError, match=r"cached needs a store to cache in: @cached\(Redis"):
        cached(ttl=1800)


def test_wrong_ttl_and_unknown_keywords_are_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="unexpected keyword argument 'tll'"):
            cached(MemoryCache(), tll=60)
    for wrong in (True, "1800", timedelta(0)):
        with pytest.raises(ConfigError, match="ttl"):
            cached(MemoryCache(), ttl=wrong)  # type: ignore[arg-type]


# --- order_by="created_at DESC", joins as dicts ---------------------------------------


def test_order_by_takes_the_documents_string() -> None:
    sql, _ = build_select("posts", order_by="created_at DESC")
    assert sql == 'SELECT * FROM "posts" ORDER BY "created_at" DESC'
    sql, _ = build_select("posts", order_by="created_at desc, id")
    assert sql.endswith('ORDER BY "created_at" DESC, "id" ASC')
    sql, _ = keyset_page("posts", order_by="created_at DESC, id DESC", limit=5, after=("t", 9))
    assert '("created_at", "id") < ($1, $2)' in sql


@pytest.mark.parametrize(
    ("order_by", "words"),
    [
        ("created_at; DROP TABLE users", "not a column name"),
        ("created_at DESC NULLS LAST", "the direction is ASC or DESC"),
        ("created_at,", "not a column name"),
        ("", "not a column name"),
    ],
)
def test_a_bad_order_by_names_the_accepted_forms(order_by: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as error:
        build_select("posts", order_by=order_by)
    assert "'column DESC'" in str(error.value)


def test_a_join_given_as_a_dict_names_join() -> None:
    join = {"type": "LEFT", "table": "users", "condition": "users.id = posts.user_id"}
    with pytest.raises(ValueError, match=r"joins take Join values, not dict: Join\('users'"):
        build_select("posts", joins=[join])  # type: ignore[list-item]


# --- the document's class and method names ---------------------------------------------


def test_the_documents_class_names_name_the_labs() -> None:
    with pytest.raises(DocumentNameError, match=r"in the lab: RedisCache .*#caching"):
        from lab.patterns import CacheManager  # noqa: F401
    with pytest.raises(ImportError, match="KafkaBatchProcessor"):
        from lab.patterns import HighPerformanceMessageProcessor  # noqa: F401
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        lab.patterns.NoSuchThing  # noqa: B018


def test_the_documents_pool_methods_name_the_labs() -> None:
    pool = DatabasePool("postgresql://lab@127.0.0.1/lab")  # not opened: no server needed
    with pytest.raises(AttributeError, match=r"no execute_query .* `await pool.fetch"):
        pool.execute_query  # noqa: B018
    with pytest.raises(AttributeError, match=r"no create_pool .* `await pool.open\(\)`"):
        pool.create_pool  # noqa: B018
    assert not hasattr(pool, "execute_transaction") and not hasattr(pool, "typo")
    with pytest.raises(AttributeError, match="'DatabasePool' object has no attribute 'typo'"):
        pool.typo  # noqa: B018


# --- the document's SLO form ---------------------------------------------------------------

DOCUMENT_SLO = """\
performance_targets:
  response_time:
    p50: "< 200ms"
    p99: "< 1.5s"
  throughput:
    requests_per_second: "> 1000rps"
    concurrent_users: "> 500"
  resource_utilization:
    cpu_usage: "< 70%"
"""


def test_the_documents_slo_form_converts_units() -> None:
    assert parse_slo(DOCUMENT_SLO) == [
        Target("latency_p50_ms", "below", 200.0), Target("latency_p99_ms", "below", 1500.0),
        Target("throughput_rps", "above", 1000.0), Target("concurrent_users", "above", 500.0),
        Target("cpu_percent", "below", 70.0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('performance_targets:\n  response_time:\n    p50: "< 200"\n', 3,
         'p50: \'< 200\' is not a comparison .* write "< 200ms" or "< 200s"'),
        ('performance_targets:\n  resource_utilization:\n    cpu_usage: "< 70ms"\n', 3,
         'write "< 200%"'),
        ('performance_targets:\n  response_time:\n    p50: "<= 200ms"\n', 3, "comparison"),
        ('performance_targets:\n  latency:\n    p50: "< 200ms"\n', 2,
         "unknown group 'latency'; known: response_time"),
        ('performance_targets:\n  response_time:\n    p42: "< 200ms"\n', 3,
         "response_time has no 'p42'; known: p50"),
        ('performance_targets:\n  response_time:\n    p50: "< 1ms"\n    p50: "< 2ms"\n', 4,
         "given twice"),
        ('performance_targets:\n  response_time: {}\n', 1, "holds no target"),
        ('performance_targets:\n  response_time: {p50: "< 1ms"}\nlatency_p99_ms: {below: 1}\n',
         1, "one key, performance_targets"),
    ],
)  # fmt: skip
def test_a_bad_document_slo_names_its_line_and_the_form(text: str, line: int, words: str
                                                        ) -> None:  # fmt: skip
    with pytest.raises(ConfigError, match=rf"doc.yaml, line {line}: .*{words}"):
        parse_slo(text, "doc.yaml")
