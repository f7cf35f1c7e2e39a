"""Open-loop arrival schedules: constant rates and linear ramps, exact to the request.

A schedule is a list of stages; each ramps linearly from the previous stage's rate (or
the start rate) to its own target over its duration, as k6's ramping-arrival-rate does.
Request k (counting from 0) is due when the cumulative arrivals N(t) reach k, so a
constant 100 rps for 10 s schedules exactly 1,000 sends, the first at t = 0.

A *segment* (i, N) keeps the requests with k mod N = i: N generators given the N
segments of one schedule (``--segment``, ``--workers``) send exactly its requests between
them, interleaved, each at 1/N of the rate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from lab.errors import ConfigError

__all__ = ["Schedule", "Stage", "parse_duration", "parse_segment", "parse_stages"]

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


def parse_segment(text: str) -> tuple[int, int]:
    """``"2/3"`` (the second of three) -> ``(1, 3)``, the 0-based form a Schedule keeps."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ConfigError(f"--segment {text!r} is not I/N, such as 2/3")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise ConfigError(f"--segment {text!r}: I must be from 1 to N")
    return i - 1, n


@dataclass(frozen=True)
class Schedule:
    stages: tuple[Stage, ...]
    start_rps: float = 0.0
    #: (i, N): only requests k with k mod N = i (0 <= i < N); (0, 1) is all of them.
    segment: tuple[int, int] = (0, 1)

    def __post_init__(self) -> None:
        index, count = self.segment
        if not 0 <= index < count:
            raise ConfigError(f"segment {index} of {count} does not exist")

    def share(self, index: int, count: int) -> Schedule:
        """The ``index``-th of ``count`` interleaved parts of this schedule (of its own
        segment, when it has one)."""
        mine, of = self.segment
        return replace(self, segment=(mine + of * index, of * count))

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
        """N(total duration): the area under the rate curve (this segment's share)."""
        return sum(d * (r0 + r1) / 2 for d, r0, r1 in self._rates()) / self.segment[1]

    def count(self) -> int:
        """How many sends the schedule holds: every k with its time inside the run."""
        return sum(1 for _ in self.offsets_ns())

    def offsets_ns(self) -> Iterator[int]:
        """Intended send times, in nanoseconds from the start, in order."""
        k = 0  # the next request's number
        elapsed = 0.0
        before = 0.0  # arrivals due before this stage
        mine, of = self.segment
        for duration, r0, r1 in self._rates():
            if duration <= 0:  # a stage of no time sends nothing; the next starts from r1
                continue
            slope = (r1 - r0) / duration  # N(t) = r0 t + slope t^2 / 2 within the stage
            in_stage = duration * (r0 + r1) / 2
            while k < before + in_stage - 1e-9:
                if k % of == mine:
                    n = k - before
                    root = math.sqrt(max(r0 * r0 + 2 * slope * n, 0.0))
                    t = 0.0 if n == 0 else 2 * n / (r0 + root)
                    yield int((elapsed + min(t, duration)) * 1e9)
                k += 1
            elapsed += duration
            before += in_stage
