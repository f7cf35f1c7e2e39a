"""Kafka processing logic without a broker: commit points, dead-letter headers, settings."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.errors import ConfigError
from lab.patterns.messaging import (
    ERROR_HEADERS,
    PartitionOffsets,
    ProducerSettings,
    RetryPolicy,
    dead_letter_headers,
    header_dict,
)


def test_the_commit_point_is_the_first_offset_still_open() -> None:
    offsets = PartitionOffsets()
    assert offsets.commit_point() is None  # nothing fetched
    for offset in (10, 11, 12, 15, 16):  # a gap (compaction) is fine
        offsets.fetched(offset)
    offsets.finished(11)
    offsets.finished(12)
    assert offsets.commit_point() == 10  # 10 is still in a handler
    offsets.finished(10)
    assert offsets.commit_point() == 15
    offsets.finished(16)
    assert offsets.commit_point() == 15
    offsets.finished(15)
    assert offsets.commit_point() == 17  # one past the last fetched
    offsets.committed = 17
    assert offsets.commit_point() is None  # nothing new to commit
    assert offsets.open_count == 0


def test_offsets_must_arrive_in_order() -> None:
    offsets = PartitionOffsets()
    offsets.fetched(5)
    with pytest.raises(ValueError, match="fetched after 5"):
        offsets.fetched(5)


@given(st.permutations(list(range(50))), st.integers(0, 49))
def test_never_commits_past_an_unfinished_offset(order: list[int], stop: int) -> None:
    offsets = PartitionOffsets()
    for offset in range(50):
        offsets.fetched(offset)
    done = set(order[:stop])
    for offset in order[:stop]:
        offsets.finished(offset)
    point = offsets.commit_point()
    first_open = min(set(range(50)) - done)
    assert point == first_open
    assert all(o in done for o in range(point or 0))


@given(st.lists(st.integers(1, 12), min_size=1, max_size=12), st.randoms(), st.data())
def test_runs_finished_in_any_order_commit_only_what_is_done(
    sizes: list[int], rng: random.Random, data: st.DataObject
) -> None:
    """Fetches of a partition (gaps between them, as compaction leaves), their messages
    split among keys (a key's run is every other offset or so, as a keyed chain's batch
    is), each run finished at once or message by message, in any order: the commit point
    is always the first offset not finished, and one past the last fetched once all are."""
    offsets, runs, start = PartitionOffsets(), [], 0
    for size in sizes:
        fetched = list(range(start, start + size))
        offsets.fetched_run(fetched)
        keys = rng.randint(1, 3)
        runs += [run for key in range(keys) if (run := fetched[key::keys])]
        start += size + rng.choice([0, 0, 3])
    everything = sorted(offset for run in runs for offset in run)
    rng.shuffle(runs)
    done: set[int] = set()
    for run in runs:
        if data.draw(st.booleans()):
            offsets.finished_run(run)
        else:
            for offset in run:
                offsets.finished(offset)
        done.update(run)
        still_open = [offset for offset in everything if offset not in done]
        expected = still_open[0] if still_open else everything[-1] + 1
        assert offsets.commit_point() == expected
        assert offsets.open_count == len(still_open)


def test_a_dead_letter_keeps_the_original_headers_and_says_why() -> None:
    try:
        raise ValueError("price must be positive")
    except ValueError as error:
        headers = dead_letter_headers(
            [("trace-id", b"abc"), (ERROR_HEADERS["offset"], b"stale")],
            topic="orders", partition=3, offset=42, error=error, attempts=3,
        )  # fmt: skip
    found = header_dict(headers)
    assert headers[0] == ("trace-id", b"abc")
    assert found[ERROR_HEADERS["topic"]] == "orders"
    assert found[ERROR_HEADERS["partition"]] == "3"
    assert found[ERROR_HEADERS["offset"]] == "42"  # the stale one was replaced
    assert found[ERROR_HEADERS["class"]] == "builtins.ValueError"
    assert found[ERROR_HEADERS["message"]] == "price must be positive"
    assert "raise ValueError" in found[ERROR_HEADERS["stacktrace"]]
    assert found["lab.errors.attempts"] == "3"
    assert [name for name, _ in headers].count(ERROR_HEADERS["offset"]) == 1


def test_retry_waits_grow_and_stay_within_their_cap() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_s=0.1, multiplier=2, max_backoff_s=0.3)
    rng = random.Random(1)
    waits = [policy.wait_s(n, rng) for n in (1, 2, 3, 4)]
    assert 0.05 <= waits[0] <= 0.1 and 0.1 <= waits[1] <= 0.2
    assert all(0.15 <= w <= 0.3 for w in waits[2:])


@pytest.mark.parametrize("bad", [
    lambda: ProducerSettings(compression="brotli"), lambda: ProducerSettings(acks=2),
    lambda: ProducerSettings(idempotence=True, acks=1), lambda: ProducerSettings(batch_size=0),
    lambda: RetryPolicy(max_attempts=0),
])  # fmt: skip
def test_bad_settings_are_config_errors(bad: object) -> None:
    with pytest.raises(ConfigError):
        bad()  # type: ignore[operator]


def test_producer_options_name_aiokafka_arguments() -> None:
    options = ProducerSettings(batch_size=65_536, linger_ms=10, compression="gzip",
                               acks="all", idempotence=True).options()  # fmt: skip
    assert options["max_batch_size"] == 65_536 and options["compression_type"] == "gzip"
    assert options["enable_idempotence"] is True and options["acks"] == "all"


def test_processor_stats_export_to_prometheus() -> None:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from lab.patterns.messaging import KafkaBatchProcessor, ProcessorCollector

    async def handle(message: object) -> None:
        return None

    processor = KafkaBatchProcessor("127.0.0.1:1", ["t"], "orders", handle)  # never started
    processor.stats.handled, processor.stats.dead_lettered = 7, 2
    processor.stats.commit_seconds.observe(0.004)
    registry = CollectorRegistry()
    registry.register(ProcessorCollector([processor]))
    samples = {(s.name, s.labels.get("event")): s.value
               for f in text_string_to_metric_families(generate_latest(registry).decode())
               for s in f.samples}  # fmt: skip
    assert samples[("lab_kafka_processor_events_total", "handled")] == 7
    assert samples[("lab_kafka_processor_events_total", "dead_lettered")] == 2
    assert samples[("lab_kafka_commit_seconds_count", None)] == 1
