"""What a load test measured, its JSON form, and exact merging of runs made in parallel."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import ConfigError
from lab.harness.latency import PERCENTILES, LatencyRecorder

__all__ = ["LoadResult", "NamedStats", "SecondStats", "merge_results"]

SCHEMA = "lab.loadtest/1"


@dataclass
class SecondStats:
    """One second of the run, by completion time."""

    requests: int = 0
    errors: int = 0
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)

    @property
    def succeeded(self) -> int:
        return self.requests - self.errors


@dataclass
class NamedStats:
    """One request name's share of a run (``--scenario`` names its requests)."""

    requests: int = 0
    errors: int = 0
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)

    def to_json(self) -> dict[str, Any]:
        summary = self.latency.summary() if self.latency.count else None
        return {
            "requests": self.requests,
            "errors": self.errors,
            "latency_ms": {name: getattr(summary, name) for name in PERCENTILES}
            if summary else None,
            "histogram": self.latency.encode() if self.latency.count else None,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NamedStats:
        found = cls(int(data["requests"]), int(data["errors"]))
        if data.get("histogram"):
            found.latency = LatencyRecorder.decode(data["histogram"])
        return found


@dataclass
class LoadResult:
    """Counts, latencies (from each request's intended send time) and a per-second timeline.

    ``requests`` were sent and ended (a response or an error); ``dropped`` were scheduled
    but never sent because the backlog was full; ``errors`` counts transport and protocol
    errors, and responses whose status was not expected (200-399 unless the settings say
    otherwise), by kind (``status 404``, ``timeout``, ...). Latency covers every response,
    not transport errors. ``interrupted``: the run was stopped before its schedule ended.
    """

    settings: dict[str, Any]
    started_utc: str = ""
    #: When the schedule's clock started (Unix seconds): merges align parts on it.
    started_unix_s: float = 0.0
    elapsed_s: float = 0.0
    scheduled: int = 0
    requests: int = 0
    dropped: int = 0
    status_counts: Counter[str] = field(default_factory=Counter)
    error_counts: Counter[str] = field(default_factory=Counter)
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)
    timeline: list[SecondStats] = field(default_factory=list)
    interrupted: bool = False
    by_name: dict[str, NamedStats] = field(default_factory=dict)
    #: The first exception a --scenario raised ("KeyError: 'x' (file.py, line 3)"), if any.
    scenario_error: str = ""

    @property
    def errors(self) -> int:
        return sum(self.error_counts.values())

    @property
    def succeeded(self) -> int:
        return self.requests - self.errors

    @property
    def achieved_rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def succeeded_rps(self) -> float:
        """Requests answered without error per second: the SLO's throughput. A service
        that answers errors fast ends many requests a second and serves none of them."""
        return self.succeeded / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def error_rate_percent(self) -> float:
        return 100.0 * self.errors / self.requests if self.requests else 0.0

    def named(self, name: str) -> NamedStats:
        found = self.by_name.get(name)
        if found is None:
            found = self.by_name[name] = NamedStats()
        return found

    def second(self, index: int) -> SecondStats:
        while len(self.timeline) <= index:
            self.timeline.append(SecondStats())
        return self.timeline[index]

    def latency_ms(self) -> dict[str, float]:
        summary = self.latency.summary()
        values = {name: getattr(summary, name) for name in PERCENTILES}
        values["max"] = summary.max
        values["mean"] = summary.mean
        return values

    def slo_metrics(self) -> dict[str, float]:
        latency = self.latency_ms()
        metrics = {f"latency_{name}_ms": value for name, value in latency.items()}
        metrics["throughput_rps"] = self.succeeded_rps
        metrics["error_rate_percent"] = self.error_rate_percent
        if self.settings.get("mode") == "closed":
            metrics["concurrent_users"] = float(self.settings.get("users", 0))
        for name, named in self.by_name.items():  # latency_p99_ms[profile], ...
            if named.latency.count:
                summary = named.latency.summary()
                for percentile in PERCENTILES:
                    metrics[f"latency_{percentile}_ms[{name}]"] = getattr(summary, percentile)
            if named.requests:
                metrics[f"error_rate_percent[{name}]"] = 100.0 * named.errors / named.requests
        return metrics

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "settings": self.settings,
            "started_utc": self.started_utc,
            "started_unix_s": self.started_unix_s,
            "elapsed_s": self.elapsed_s,
            "interrupted": self.interrupted,
            "scheduled": self.scheduled,
            "requests": self.requests,
            "errors": self.errors,
            "dropped": self.dropped,
            "achieved_rps": self.achieved_rps,
            "succeeded_rps": self.succeeded_rps,
            "error_rate_percent": self.error_rate_percent,
            "latency_ms": self.latency_ms(),
            "status_counts": dict(self.status_counts),
            "error_counts": dict(self.error_counts),
            "timeline": [
                {
                    "second": index,
                    "requests": s.requests,
                    "errors": s.errors,
                    "p99_ms": s.latency.percentile_ms(99.0) if s.latency.count else None,
                    "histogram": s.latency.encode() if s.latency.count else None,
                }
                for index, s in enumerate(self.timeline)
            ],
            "histogram": self.latency.encode(),
            "by_name": {name: named.to_json() for name, named in sorted(self.by_name.items())},
            "scenario_error": self.scenario_error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadResult:
        if data.get("schema") != SCHEMA:
            raise ConfigError(f"not a lab loadtest result (schema {data.get('schema')!r})")
        result = cls(
            settings=data["settings"],
            started_utc=data["started_utc"],
            started_unix_s=float(data.get("started_unix_s", 0.0)),
            elapsed_s=float(data["elapsed_s"]),
            interrupted=bool(data.get("interrupted", False)),
            scenario_error=str(data.get("scenario_error", "")),
            scheduled=int(data["scheduled"]),
            requests=int(data["requests"]),
            dropped=int(data["dropped"]),
            status_counts=Counter(data["status_counts"]),
            error_counts=Counter(data["error_counts"]),
            latency=LatencyRecorder.decode(data["histogram"]),
        )
        for name, named in (data.get("by_name") or {}).items():
            result.by_name[name] = NamedStats.from_json(named)
        for entry in data["timeline"]:
            second = result.second(int(entry["second"]))
            second.requests, second.errors = int(entry["requests"]), int(entry["errors"])
            if entry.get("histogram"):
                second.latency = LatencyRecorder.decode(entry["histogram"])
        return result

    def write(self, path: Path) -> None:
        from lab.harness.results import write_atomic

        write_atomic(path, json.dumps(self.to_json(), indent=1))

    @classmethod
    def read(cls, path: Path) -> LoadResult:
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} is not JSON (line {error.lineno}: {error.msg})") from None
        try:
            return cls.from_json(data)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ConfigError):
                raise ConfigError(f"{path}: {error}") from None
            raise ConfigError(f"{path} is not a complete lab loadtest result ({error})") from None


def merge_results(parts: list[LoadResult]) -> LoadResult:
    """Combine runs that ran side by side (workers, segments on several machines): counts
    and histograms add exactly. Parts are aligned on their start times, so second ``t``
    of the merged timeline holds what every part did in that second of wall-clock time,
    and the elapsed time runs from the first start to the last end."""
    if not parts:
        raise ConfigError("nothing to merge")
    aligned = all(part.started_unix_s for part in parts)
    first = min(part.started_unix_s for part in parts) if aligned else 0.0
    offsets = [part.started_unix_s - first if aligned else 0.0 for part in parts]
    merged = LoadResult(
        settings={**parts[0].settings, "merged_parts": len(parts)},
        started_utc=min(part.started_utc for part in parts),
        started_unix_s=first,
        elapsed_s=max(offset + part.elapsed_s for offset, part in zip(offsets, parts, strict=True)),
        interrupted=any(part.interrupted for part in parts),
        scenario_error=next((part.scenario_error for part in parts if part.scenario_error), ""),
    )
    for part, offset in zip(parts, offsets, strict=True):
        shift = round(offset)
        merged.scheduled += part.scheduled
        merged.requests += part.requests
        merged.dropped += part.dropped
        merged.status_counts.update(part.status_counts)
        merged.error_counts.update(part.error_counts)
        merged.latency.merge(part.latency)
        for name, named in part.by_name.items():
            into_name = merged.named(name)
            into_name.requests += named.requests
            into_name.errors += named.errors
            into_name.latency.merge(named.latency)
        for index, second in enumerate(part.timeline):
            into = merged.second(index + shift)
            into.requests += second.requests
            into.errors += second.errors
            into.latency.merge(second.latency)
    return merged
