"""The resilience experiment's tables: what the report, asv and the notebooks show."""

from __future__ import annotations

from functools import partial

import pandas as pd

from lab.experiments.tables import ReportTable

__all__ = [
    "TABLES",
    "breaker_summary",
    "overhead_summary",
    "scenario_table",
    "state_timeline",
    "summary",
]


def state_timeline(frame: pd.DataFrame) -> pd.DataFrame:
    """The lab breakers' state transitions: when (seconds from the start) and into what."""
    columns = ["part", "variant", "repeat", "t_s", "state"]
    if "state" not in frame:
        return pd.DataFrame(columns=columns)
    return frame.loc[frame.outcome == "transition", columns].reset_index(drop=True)


def breaker_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and variant, medians over repeats: success rate seen by callers, calls
    that reached the downstream during the fault, time to first rejection after the fault
    began, time to the first success after it healed, and (lab breakers) transitions."""
    rows = frame[frame.part.isin(["outage", "partial", "slowdown"])]
    per_repeat = []
    for (part, variant, repeat), both in rows.groupby(["part", "variant", "repeat"], sort=False):
        group = both[both.outcome != "transition"]
        transitions = both[both.outcome == "transition"]
        start, end = float(group.fault_start_s.iloc[0]), float(group.fault_end_s.iloc[0])
        during = group[(group.t_s >= start) & (group.t_s < end)]
        rejected_after = group[(group.outcome == "rejected") & (group.t_s >= start)]
        healed = group[(group.outcome == "success") & (group.t_s >= end)]
        good = (group.outcome == "success") & ~((part == "slowdown") & (group.latency_s > 0.1))
        per_repeat.append({
            "scenario": part, "variant": variant, "repeat": repeat,
            "calls": len(group), "success_rate": good.mean(),
            "reached_during_fault": int((during.outcome != "rejected").sum()),
            "time_to_open_s": rejected_after.t_s.min() - start if len(rejected_after) else None,
            "time_to_recover_s": healed.t_s.min() - end if len(healed) else None,
            # Only the lab's breakers report transitions; the others have no listener here.
            "transitions": len(transitions)
            if "tracks_state" in group and group.tracks_state.all()
            else None,
        })  # fmt: skip
    table = pd.DataFrame(per_repeat)
    if table.empty:  # a run without the fault scenarios
        return pd.DataFrame(columns=["scenario", "variant", "runs"])
    return (
        table.groupby(["scenario", "variant"], sort=False)
        .agg(
            runs=("repeat", "size"),
            calls=("calls", "median"),
            success_rate=("success_rate", "median"),
            reached_during_fault=("reached_during_fault", "median"),
            reached_max=("reached_during_fault", "max"),
            time_to_open_s=("time_to_open_s", "median"),
            time_to_recover_s=("time_to_recover_s", "median"),
            transitions=("transitions", "median"),
        )
        .reset_index()
    )


def overhead_summary(frame: pd.DataFrame) -> pd.DataFrame:
    cost = frame[frame.part == "overhead"]
    if cost.empty:
        return pd.DataFrame()
    return (
        cost.groupby("variant", sort=False)
        .agg(
            runs=("repeat", "size"),
            ns_per_call=("ns_per_call", "median"),
            overhead_ns=("overhead_ns", "median"),
            overhead_ns_min=("overhead_ns", "min"),
            overhead_ns_max=("overhead_ns", "max"),
        )
        .reset_index()
    )


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Breaker behaviour, per-call overhead, throughput by limit and peak memory, one table."""
    parts = [breaker_summary(frame), overhead_summary(frame).assign(scenario="overhead")]
    bounded = frame[frame.part == "bounded"]
    if len(bounded):
        parts.append(
            bounded.groupby("limit").agg(runs=("repeat", "size"),
                items_per_s=("items_per_s", "median"),
                littles_law_items_per_s=("littles_law_items_per_s", "first"))
            .reset_index().assign(scenario="bounded", variant="bounded_map")
        )  # fmt: skip
    memory = frame[frame.part == "memory"]
    if len(memory):
        parts.append(
            memory.groupby(["variant", "items"], sort=False)
            .agg(runs=("repeat", "size"), peak_mib=("peak_mib", "median"))
            .reset_index().assign(scenario="memory")
        )  # fmt: skip
    return pd.concat([part for part in parts if len(part)], ignore_index=True)


def scenario_table(frame: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """The summary's rows of one question, without the columns it does not use."""
    table = summary(frame)
    rows = table[table.scenario == scenario]
    if rows.empty:
        return rows
    return rows.dropna(axis=1, how="all").drop(columns="scenario")


TABLES = tuple(
    ReportTable(caption, partial(scenario_table, scenario=scenario))
    for scenario, caption in (
        ("outage", "Outage: every answer a 500 during the fault"),
        ("partial", "Partial failure: 30 % of answers are 500s during the fault"),
        ("slowdown", "Slow-down: every answer takes 300 ms longer during the fault"),
        ("overhead", "Cost per call against a bare await (ns)"),
        ("bounded", "Bounded processing against a 10 ms downstream, by limit (Little's law)"),
        ("memory", "Peak memory: bounded_map against gathering one task per item"),
    )
)
