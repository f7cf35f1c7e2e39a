"""A dead-letter record keeps everything the original had, and says why it is there.

The record goes to the dead-letter topic with the original key, value and headers
untouched, plus the headers
Kafka Connect writes for the same purpose (``__connect.errors.*``: source topic,
partition, offset, exception class, message and stack trace) and the number of attempts.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence

__all__ = ["ATTEMPTS", "ERROR_HEADERS", "dead_letter_headers", "header_dict"]

Headers = Sequence[tuple[str, bytes]]

ERROR_HEADERS = {
    "topic": "__connect.errors.topic",
    "partition": "__connect.errors.partition",
    "offset": "__connect.errors.offset",
    "class": "__connect.errors.exception.class.name",
    "message": "__connect.errors.exception.message",
    "stacktrace": "__connect.errors.exception.stacktrace",
}
ATTEMPTS = "lab.errors.attempts"
_MAX_TEXT = 8_000  # a header is not a log file


def dead_letter_headers(
    original: Headers,
    *,
    topic: str,
    partition: int,
    offset: int,
    error: BaseException,
    attempts: int,
) -> list[tuple[str, bytes]]:
    """The original headers, then the error headers (replacing any left by an earlier
    dead-lettering of the same record)."""
    ours = set(ERROR_HEADERS.values()) | {ATTEMPTS}
    kind = type(error)
    stack = "".join(traceback.format_exception(error))[-_MAX_TEXT:]
    added = {
        "topic": topic,
        "partition": str(partition),
        "offset": str(offset),
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "message": str(error)[:_MAX_TEXT],
        "stacktrace": stack,
    }
    headers = [(name, value) for name, value in original if name not in ours]
    headers += [(ERROR_HEADERS[field], text.encode()) for field, text in added.items()]
    headers.append((ATTEMPTS, str(attempts).encode()))
    return headers


def header_dict(headers: Headers) -> dict[str, str]:
    """Headers as text, the last value winning (for reading a dead-letter record)."""
    return {name: value.decode(errors="replace") for name, value in headers}
