"""Prometheus rules for SLO objectives: the SLIs as recording rules, and multi-window,
multi-burn-rate alerts as chapter 5 of the Google SRE workbook gives them.

For each objective the error ratio (the share of bad requests) is recorded over each
window the alerts read, ``slo:sli_error:ratio_rate<window>{slo="<name>"}``, and over the
objective's own window, from which the budget left is recorded as
``slo:error_budget_remaining:ratio``. An alert fires when the budget burns ``rate`` times
faster than the objective allows, over a long window and a short one together (the short
one makes it stop soon after the problem does):

=========  ==========  ===========  ============
severity   burn rate   long window  short window
=========  ==========  ===========  ============
page       14.4        1h           5m
page       6           6h           30m
ticket     1           3d           6h
=========  ==========  ===========  ============

``scale`` divides every window (not the burn rates): ``scale=60`` turns an hour into a
minute, for an experiment of minutes. The rule names keep the unscaled windows, and the
group's name says it is scaled.
"""

from __future__ import annotations

from typing import Any

from lab.errors import ConfigError
from lab.harness.promql import summed_rate
from lab.harness.slo_objectives import Objective, format_duration

__all__ = ["BURN_ALERTS", "DEFAULT_SELECTOR", "MIN_WINDOW_S", "rule_groups", "window_s"]

#: (severity, burn rate, long window, short window), in seconds.
BURN_ALERTS: tuple[tuple[str, float, int, int], ...] = (
    ("page", 14.4, 3600, 300),
    ("page", 6.0, 6 * 3600, 1800),
    ("ticket", 1.0, 3 * 86_400, 6 * 3600),
)
DEFAULT_SELECTOR = 'service="lab-serve"'
#: A rate needs a few scrapes in its window (lab services up scrapes every second).
MIN_WINDOW_S = 4


def window_s(seconds: int, scale: float) -> int:
    scaled = round(seconds / scale)
    if scaled < MIN_WINDOW_S:
        raise ConfigError(f"--scale {scale:g} makes the {format_duration(seconds)} window "
                          f"{seconds / scale:g} s; the shortest is {MIN_WINDOW_S} s")  # fmt: skip
    return scaled


def _error_ratio(objective: Objective, selector: str, window: str) -> str:
    def rate(metric: str, extra: str = "") -> str:
        return summed_rate(metric, (selector, extra), window)

    if objective.sli == "availability":
        bad = rate("http_requests_total", 'status="5xx"')  # no 5xx yet: no series, so 0
        return f"({bad} or vector(0)) / {rate('http_requests_total')}"
    edge = repr(objective.threshold_s)  # as the lab's histograms label their buckets
    good = rate("http_request_duration_seconds_bucket", f'le="{edge}"')
    return f"1 - ({good} / {rate('http_request_duration_seconds_count')})"


def _windows(objective: Objective) -> list[int]:
    shown = {seconds for _, _, long, short in BURN_ALERTS for seconds in (long, short)}
    return sorted(shown | {objective.window_s})


def _recording(objective: Objective, selector: str, scale: float) -> list[dict[str, Any]]:
    rules = [{"record": f"slo:sli_error:ratio_rate{format_duration(seconds)}",
              "expr": _error_ratio(objective, selector,
                                   format_duration(window_s(seconds, scale))),
              "labels": {"slo": objective.name}}
             for seconds in _windows(objective)]  # fmt: skip
    whole = f"slo:sli_error:ratio_rate{format_duration(objective.window_s)}"
    rules.append({"record": "slo:error_budget_remaining:ratio",
                  "expr": f'1 - {whole}{{slo="{objective.name}"}} / {objective.budget:g}',
                  "labels": {"slo": objective.name}})  # fmt: skip
    return rules


def _alerts(objective: Objective, scale: float) -> list[dict[str, Any]]:
    alerts = []
    for severity, burn, long, short in BURN_ALERTS:
        bound = f"{burn * objective.budget:.6g}"
        ratio = 'slo:sli_error:ratio_rate{w}{{slo="' + objective.name + '"}}'
        long_name, short_name = format_duration(long), format_duration(short)
        expr = (f"{ratio.format(w=long_name)} > {bound} and "
                f"{ratio.format(w=short_name)} > {bound}")  # fmt: skip
        scaled = "" if scale == 1 else f" (windows scaled ÷{scale:g})"
        alerts.append({
            "alert": "ErrorBudgetBurn",
            "expr": expr,
            "labels": {"slo": objective.name, "severity": severity, "burn_rate": f"{burn:g}",
                       "long_window": long_name},
            "annotations": {
                "summary": f"{objective.describe()}: the error budget burns {burn:g}x too "
                           f"fast over {long_name} and {short_name}{scaled}",
            },
        })  # fmt: skip
    return alerts


def rule_groups(objectives: list[Objective], *, selector: str = DEFAULT_SELECTOR,
                scale: float = 1.0) -> dict[str, Any]:  # fmt: skip
    """The rule file's content (``yaml.safe_dump`` it) for ``objectives``, reading the
    series that ``selector`` picks (``service="lab-serve"``: the lab's reference
    service as ``lab services up``'s Prometheus scrapes it)."""
    if not objectives:
        raise ConfigError("the SLO file has no objectives: add `objectives:` (see slo.yaml)")
    if scale < 1:
        raise ConfigError(f"--scale divides the windows: 1 or more, not {scale:g}")
    suffix = "" if scale == 1 else f"-scaled-{scale:g}x"
    groups = []
    for objective in objectives:
        groups.append({"name": f"slo-{objective.name}-sli{suffix}",
                       "rules": _recording(objective, selector, scale)})  # fmt: skip
        groups.append({"name": f"slo-{objective.name}-alerts{suffix}",
                       "rules": _alerts(objective, scale)})  # fmt: skip
    return {"groups": groups}
