"""What the reference service runs with: where its servers are, and which patterns are on.

Every pattern has an off-switch (a ``lab serve`` flag or a ``LAB_SERVE_NO_*`` variable),
so the naive service can be measured against the optimized one on the same code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from lab.config import endpoints
from lab.errors import ConfigError

__all__ = ["PATTERNS", "ServiceSettings"]

#: Each switchable pattern and what turning it off means.
PATTERNS = {
    "cache": "profiles and post pages read from PostgreSQL on every request (no Redis cache-aside)",
    "pool": "a new PostgreSQL connection for every request (no pool)",
    "breaker": "the followers service is called with no circuit breaker and no retries",
    "limiter": "no adaptive concurrency limit in front of the handlers",
}


@dataclass(frozen=True)
class ServiceSettings:
    postgres_dsn: str
    redis_url: str
    kafka_bootstrap: str
    cache: bool = True
    pool: bool = True
    breaker: bool = True
    limiter: bool = True
    pool_size: int = 16
    cache_ttl_s: float = 60.0
    #: The profile cache sends the GETs of one event-loop tick as one MGET (off: a GET
    #: each). At the target rate it saves a few % of the service's CPU per request, not
    #: in every repeat: the service experiment's profile part measures it with
    #: ``profile_switches=[--no-cache-coalesce]``.
    cache_coalesce: bool = True
    #: The profile cache keeps what Redis answered in process too, for ``cache_front_ttl_s``
    #: at most (``TieredCache``): a hot profile costs no round trip. Profiles change only
    #: by registration (a new id, invalidating nothing), so what it can serve stale is a
    #: negative entry, for that long past Redis's. Off: every lookup asks Redis.
    cache_front: bool = True
    cache_front_ttl_s: float = 2.0
    #: Post pages by offset (a profile's posts, a summary's recent ones) are cached too,
    #: for ``cache_ttl_s``. Nothing in the service writes posts; a service that did would
    #: delete a user's page keys on write. Off: every page is a query.
    cache_posts: bool = True
    #: A request whose client hung up is cancelled at its next await (aiohttp's
    #: ``handler_cancellation``), so an overload's abandoned requests stop taking the
    #: pool, Redis and the followers service from the ones still waited for.
    cancel_abandoned: bool = True
    max_per_page: int = 100
    #: The followers service; ``None``: ``lab serve`` starts a simulated one beside it.
    followers_url: str | None = None
    followers_timeout_s: float = 0.5
    registrations_topic: str = "user.registered"
    #: The Kafka consumer group handling it: services in one group share the events (as
    #: replicas do); each group gets every event.
    registrations_group: str = "lab-service-registrations"
    #: Handle ``user.registered`` in this process (off: another consumer does).
    consume: bool = True
    #: Users and posts to create when the tables are missing.
    dataset_users: int = 10_000
    dataset_posts: int = 100_000

    def __post_init__(self) -> None:
        if self.pool_size < 1:
            raise ConfigError(f"pool size must be at least 1, not {self.pool_size}")
        if self.max_per_page < 1:
            raise ConfigError(f"max per page must be at least 1, not {self.max_per_page}")
        if self.followers_timeout_s <= 0 or self.cache_ttl_s <= 0 or self.cache_front_ttl_s <= 0:
            raise ConfigError("timeouts and TTLs must be positive")

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        """The lab's endpoints, patterns switched off by ``LAB_SERVE_NO_<PATTERN>=1``."""
        found = endpoints()
        switches = {name: os.environ.get(f"LAB_SERVE_NO_{name.upper()}", "") not in
                    ("1", "true", "yes") for name in PATTERNS}  # fmt: skip
        base = cls(postgres_dsn=found.postgres_dsn, redis_url=found.redis_url,
                   kafka_bootstrap=found.kafka_bootstrap, **switches)  # type: ignore[arg-type]  # fmt: skip
        return replace(base, **overrides)  # type: ignore[arg-type]

    def enabled(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in PATTERNS}
