"""A producer's batching, compression and delivery settings, checked before it is built.

``ProducerSettings`` holds batch size, linger, compression, acks and idempotence; a
codec whose library is missing is refused with the package to install, rather than
failing on the first send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.codec import has_gzip, has_lz4, has_snappy, has_zstd

from lab.errors import ConfigError

__all__ = ["CODECS", "ProducerSettings", "available_codecs", "make_producer"]

CODECS = {"gzip": has_gzip, "snappy": has_snappy, "lz4": has_lz4, "zstd": has_zstd}


def available_codecs() -> list[str]:
    return ["none"] + [name for name, present in CODECS.items() if present()]


@dataclass(frozen=True)
class ProducerSettings:
    batch_size: int = 16_384  # bytes per partition batch (Kafka's default)
    linger_ms: int = 5
    compression: str = "none"  # none, gzip, snappy, lz4, zstd
    acks: int | str = 1  # 0, 1 or "all"
    idempotence: bool = False  # needs acks="all"
    max_request_size: int = 1_048_576

    def __post_init__(self) -> None:
        if self.compression != "none" and self.compression not in CODECS:
            raise ConfigError(f"compression must be one of none, {', '.join(CODECS)}")
        if self.compression != "none" and not CODECS[self.compression]():
            raise ConfigError(
                f"the {self.compression} codec is not installed (pip install cramjam)"
            )
        if self.acks not in (0, 1, "all", -1):
            raise ConfigError(f"acks must be 0, 1 or 'all', not {self.acks!r}")
        if self.idempotence and self.acks not in ("all", -1):
            raise ConfigError("idempotence needs acks='all'")
        if self.batch_size < 1 or self.linger_ms < 0:
            raise ConfigError("batch_size must be positive and linger_ms not negative")

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``AIOKafkaProducer``."""
        return {
            "max_batch_size": self.batch_size,
            "linger_ms": self.linger_ms,
            "compression_type": None if self.compression == "none" else self.compression,
            "acks": self.acks,
            "enable_idempotence": self.idempotence,
            "max_request_size": self.max_request_size,
        }


def make_producer(
    bootstrap: str, settings: ProducerSettings | None = None, **extra: Any
) -> AIOKafkaProducer:
    """An unstarted producer (``await producer.start()``, or ``async with``)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, **(settings or ProducerSettings()).options(), **extra
    )
