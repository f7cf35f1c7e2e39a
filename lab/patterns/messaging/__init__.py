"""Kafka message processing: at-least-once batches with a dead-letter topic.

``processor`` (``KafkaBatchProcessor``), ``offsets`` (what may be committed),
``dead_letter`` (the headers a dead-lettered record carries) and ``producer`` (a
producer's batching, compression and delivery settings).
"""

from lab.patterns.messaging.dead_letter import ERROR_HEADERS, dead_letter_headers, header_dict
from lab.patterns.messaging.metrics import ProcessorCollector
from lab.patterns.messaging.offsets import PartitionOffsets
from lab.patterns.messaging.processor import (
    KafkaBatchProcessor,
    Message,
    ProcessorStats,
    RetryPolicy,
)
from lab.patterns.messaging.producer import ProducerSettings, available_codecs, make_producer

__all__ = [
    "ERROR_HEADERS",
    "KafkaBatchProcessor",
    "Message",
    "PartitionOffsets",
    "ProcessorCollector",
    "ProcessorStats",
    "ProducerSettings",
    "RetryPolicy",
    "available_codecs",
    "dead_letter_headers",
    "header_dict",
    "make_producer",
]
