"""Open-loop arrival schedules: constant rates and linear ramps, exact to the request.

A schedule is a list of stages; each ramps linearly from the previous stage's rate (or
the start rate) to its own target over its duration, as k6's ramping-arrival-rate does.
Request k (counting from 0) is due when the cumulative arrivals N(t) reach k, so a
constant 100 rps for 10 s schedules exactly 1,000 sends, the first at t = 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lab.errors import ConfigError

__all__ = ["Schedule", "Stage", "parse_duration", "parse_stages"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str, what: str = "duration") -> float:
    """``"500ms"``, ``"10s"``, ``"2m"``, ``"1.5"`` (seconds) -> seconds; must be > 0."""
    found = _DURATION.match(text)
    if not found:
        raise ConfigError(f"{what} {text!r} is not a duration such as 500ms, 10s or 2m")
    seconds = float(found.group(1)) * _UNIT_S[found.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{what} must be greater than zero, not {text!r}")
    return seconds


@dataclass(frozen=True)
class Stage:
    duration_s: float
    target_rps: float


def parse_stages(text: str) -> list[Stage]:
    """``"10s:100,30s:1000,10s:0"`` -> three stages (duration:target rate)."""
    stages = []
    for part in text.split(","):
        duration, sep, rate = part.strip().partition(":")
        if not sep:
            raise ConfigError(f"stage {part.strip()!r} is not DURATION:RATE, such as 30s:1000")
        try:
            target = float(rate)
        except ValueError:
            raise ConfigError(f"stage {part.strip()!r}: rate {rate!r} is not a number") from None
        if not math.isfinite(target) or target < 0:
            raise ConfigError(f"stage {part.strip()!r}: rate must be zero or more")
        stages.append(Stage(parse_duration(duration, f"stage {part.strip()!r}:"), target))
    return stages


@dataclass(frozen=True)
class Schedule:
    stages: tuple[Stage, ...]
    start_rps: float = 0.0

    @classmethod
    def constant(cls, rate_rps: float, duration_s: float) -> Schedule:
        if not math.isfinite(rate_rps) or rate_rps <= 0:
            raise ConfigError(f"rate must be greater than zero, not {rate_rps:g}")
        if not math.isfinite(duration_s) or duration_s <= 0:
            raise ConfigError(f"duration must be greater than zero, not {duration_s:g}")
        return cls((Stage(duration_s, rate_rps),), start_rps=rate_rps)

    @property
    def duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages)

    def _rates(self) -> Iterator[tuple[float, float, float]]:
        previous = self.start_rps
        for stage in self.stages:
            yield stage.duration_s, previous, stage.target_rps
            previous = stage.target_rps

    def expected_arrivals(self) -> float:
        """N(total duration): the area under the rate curve."""
        return sum(d * (r0 + r1) / 2 for d, r0, r1 in self._rates())

    def count(self) -> int:
        """How many sends the schedule holds: every k with its time inside the run."""
        return sum(1 for _ in self.offsets_ns())

    def offsets_ns(self) -> Iterator[int]:
        """Intended send times, in nanoseconds from the start, in order."""
        k = 0  # the next request's number
        elapsed = 0.0
        before = 0.0  # arrivals due before this stage
        for duration, r0, r1 in self._rates():
            slope = (r1 - r0) / duration  # N(t) = r0 t + slope t^2 / 2 within the stage
            in_stage = duration * (r0 + r1) / 2
            while k < before + in_stage - 1e-9:
                n = k - before
                root = math.sqrt(max(r0 * r0 + 2 * slope * n, 0.0))
                t = 0.0 if n == 0 else 2 * n / (r0 + root)
                yield int((elapsed + min(t, duration)) * 1e9)
                k += 1
            elapsed += duration
            before += in_stage
