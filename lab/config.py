"""Where the lab's servers are: ``LAB_*`` environment variables with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lab.errors import ConfigError

__all__ = ["Endpoints", "HostPort", "endpoints", "lab_home"]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_DSN = "postgresql://lab@127.0.0.1:5432/lab"
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:9090"


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Endpoints:
    """The four service endpoints, validated."""

    redis_url: str
    postgres_dsn: str
    kafka_bootstrap: str
    prometheus_url: str = DEFAULT_PROMETHEUS_URL

    @property
    def redis(self) -> HostPort:
        return _url_host_port("LAB_REDIS_URL", self.redis_url, ("redis", "rediss"), 6379)

    @property
    def postgres(self) -> HostPort:
        return _url_host_port(
            "LAB_POSTGRES_DSN", self.postgres_dsn, ("postgresql", "postgres"), 5432
        )

    @property
    def postgres_user(self) -> str:
        return urlsplit(self.postgres_dsn).username or "lab"

    @property
    def postgres_database(self) -> str:
        return urlsplit(self.postgres_dsn).path.lstrip("/") or self.postgres_user

    @property
    def prometheus(self) -> HostPort:
        return _url_host_port("LAB_PROMETHEUS_URL", self.prometheus_url, ("http", "https"), 9090)

    @property
    def kafka(self) -> HostPort:
        first = self.kafka_bootstrap.split(",")[0].strip()
        host, sep, port = first.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(
                f"LAB_KAFKA_BOOTSTRAP={self.kafka_bootstrap!r} is not host:port "
                f"(for example {DEFAULT_KAFKA_BOOTSTRAP})"
            )
        return HostPort(host, int(port))


def _url_host_port(var: str, url: str, schemes: tuple[str, ...], default_port: int) -> HostPort:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(
            f"{var}={url!r} is not a {schemes[0]}:// URL with a host "
            f"(for example {schemes[0]}://127.0.0.1:{default_port})"
        )
    try:
        port = parts.port or default_port
    except ValueError:
        raise ConfigError(
            f"{var}={url!r} has a port that is not a number from 1 to 65535"
        ) from None
    if port < 1:
        raise ConfigError(f"{var}={url!r} has port {port}; use a port from 1 to 65535")
    return HostPort(parts.hostname, port)


def endpoints() -> Endpoints:
    """Read the endpoints from the environment now (not at import), and validate them."""
    found = Endpoints(
        redis_url=os.environ.get("LAB_REDIS_URL", DEFAULT_REDIS_URL),
        postgres_dsn=os.environ.get("LAB_POSTGRES_DSN", DEFAULT_POSTGRES_DSN),
        kafka_bootstrap=os.environ.get("LAB_KAFKA_BOOTSTRAP", DEFAULT_KAFKA_BOOTSTRAP),
        prometheus_url=os.environ.get("LAB_PROMETHEUS_URL", DEFAULT_PROMETHEUS_URL).rstrip("/"),
    )
    found.redis, found.postgres, found.kafka, found.prometheus  # noqa: B018 - validate eagerly
    return found


def lab_home() -> Path:
    """The folder for pid files, logs and server data (``LAB_HOME``, default ``./.lab``)."""
    return Path(os.environ.get("LAB_HOME", ".lab")).resolve()
