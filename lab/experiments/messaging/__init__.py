"""Messaging: Kafka from Python, at least once, with a dead-letter topic."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

KAFKA_CLUSTER_NOT_RUN = (
    "not run (start the 3-broker Kafka with `lab services up --kafka-brokers 3`)"
)

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="messaging",
    title="Messaging: Kafka from Python, at least once, with a dead-letter topic",
    question="How many messages per second do aiokafka's producer and consumer reach against "
    "Kafka's ProducerPerformance and ConsumerPerformance with the same settings, and "
    "by batch size, linger, compression and record size? Does the batch processor "
    "lose anything when killed, how many duplicates does a crash cost, where do "
    "poison messages go, and does it scale with members?",
    services=("kafka",),
    reading="Producing and consuming are shown as a share of Kafka's own Java perf tools with "
    "the same settings in the same repeat. The crash runs kill the worker mid-stream: "
    "nothing may be lost, and duplicates are bounded by what was in flight.",
    headlines=(
        headline(
            "aiokafka producer / ProducerPerformance (100 B)",
            "Producing",
            "vs_java",
            "Kafka's perf tools",
            case="100 B, 16 KiB batches, linger 5 ms",
            tool="aiokafka",
        ),
        headline(
            "KafkaBatchProcessor (32) / ConsumerPerformance",
            "Consuming",
            "vs_java",
            "Kafka's perf tools",
            tool="KafkaBatchProcessor, concurrency 32",
        ),
        headline(
            "KafkaBatchProcessor, batch handler / ConsumerPerformance",
            "Consuming",
            "vs_java",
            "Kafka's perf tools",
            tool="KafkaBatchProcessor, batch handler",
        ),
        headline("messages lost when the worker is killed", "The worker killed", "lost"),
        headline("duplicates per crash", "The worker killed", "duplicates_per_crash"),
        headline("4 workers / 1 on 8 partitions", "Worker processes", "vs_one", workers=4),
        headline(
            "acknowledged messages lost when a broker of three is killed, acks=all",
            "A broker of three",
            "lost",
            not_run=KAFKA_CLUSTER_NOT_RUN,
            acks="all",
        ),
        headline(
            "seconds without an acknowledgement after a broker is killed, acks=all",
            "A broker of three",
            "produce_pause_s",
            not_run=KAFKA_CLUSTER_NOT_RUN,
            acks="all",
        ),
    ),
)
