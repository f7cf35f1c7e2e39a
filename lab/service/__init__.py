"""The reference service: the seed's user-profile service built from the lab's patterns.

``GET /api/users/{id}`` (cached profile), ``GET /api/users/{id}/posts`` (pool, safe
queries, page or keyset cursor), ``GET /api/users/{id}/summary`` (profile, recent posts
and followers concurrently; followers through the circuit-breaker client),
``POST /api/users`` (insert plus ``user.registered`` through a transactional outbox,
handled by the Kafka batch processor), ``/metrics``, ``/healthz`` and ``/api/_stats``.
Each pattern can be switched off (:class:`ServiceSettings`) to measure the naive service.
"""

from lab.service.app import build_app
from lab.service.serve import serve
from lab.service.settings import PATTERNS, ServiceSettings

__all__ = ["PATTERNS", "ServiceSettings", "build_app", "serve"]
