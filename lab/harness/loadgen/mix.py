"""A weighted mix of request paths for the load generator, so one run can drive a
service the way its clients do: ``/api/users/{id}`` 60 %, ``/api/users/{id}/summary``
20 %, ... with ids drawn uniformly or Zipf-skewed (a few hot users, a long tail).

The requests are built up front (``size`` of them, seeded) and sent in turn, so the mix
costs the generator nothing per request.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from typing import Any

from lab.errors import ConfigError
from lab.harness.loadgen.http1 import HttpTarget, build_request

__all__ = ["RequestMix", "parse_mix"]


@dataclass(frozen=True)
class RequestMix:
    paths: tuple[tuple[str, float], ...]  # (template with an optional {id}, weight)
    ids: int = 1000  # {id} is drawn from 1..ids
    zipf_s: float = 0.0  # 0: uniform; 1: id k is drawn with weight 1/k
    seed: int = 0
    size: int = 8192

    def __post_init__(self) -> None:
        if not self.paths:
            raise ConfigError("a request mix needs at least one path")
        for template, weight in self.paths:
            if not template.startswith("/") or weight <= 0:
                raise ConfigError(f"mix path {template!r}:{weight} needs a leading / and a "
                                  "weight above 0")  # fmt: skip
            try:
                template.format(id=1)
            except (KeyError, IndexError, ValueError):
                raise ConfigError(f"mix path {template!r} may only use {{id}}") from None
        if self.ids < 1 or self.zipf_s < 0 or self.size < 1:
            raise ConfigError("ids and size must be at least 1, zipf_s at least 0")

    def path_list(self) -> list[str]:
        """The ``size`` paths, in the order they are sent."""
        rng = random.Random(self.seed)
        templates = [template for template, _ in self.paths]
        weights = [weight for _, weight in self.paths]
        id_weights = list(itertools.accumulate(1 / k**self.zipf_s for k in range(1, self.ids + 1)))
        chosen = rng.choices(templates, weights=weights, k=self.size)
        ids = rng.choices(range(1, self.ids + 1), cum_weights=id_weights, k=self.size)
        return [template.format(id=user) for template, user in zip(chosen, ids, strict=True)]

    def requests(self, target: HttpTarget, method: str, headers: dict[str, str],
                 body: bytes) -> list[bytes]:  # fmt: skip
        return [build_request(replace(target, path=path), method, headers, body)
                for path in self.path_list()]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        return {"paths": [list(p) for p in self.paths], "ids": self.ids, "zipf_s": self.zipf_s,
                "seed": self.seed}  # fmt: skip


def parse_mix(specs: list[str], ids: int = 1000, zipf_s: float = 0.0) -> RequestMix:
    """``["/api/users/{id}:6", "/api/users/{id}/summary:2"]`` -> a mix (weight 1 if none)."""
    paths = []
    for spec in specs:
        template, sep, weight = spec.rpartition(":")
        if not sep or not weight.replace(".", "", 1).isdigit():
            template, weight = spec, "1"
        paths.append((template, float(weight)))
    return RequestMix(tuple(paths), ids=ids, zipf_s=zipf_s)
