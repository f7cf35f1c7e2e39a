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
    if rows.empty:  # a run without the fault scenarios
        return pd.DataFrame(columns=["scenario", "variant", "runs"])
    keys = ["part", "variant", "repeat"]
    calls = rows[rows.outcome != "transition"]
    by_run = calls.groupby(keys, sort=False)
    start, end = by_run.fault_start_s.transform("first"), by_run.fault_end_s.transform("first")
    after_start, after_end = calls.t_s >= start, calls.t_s >= end
    good = (calls.outcome == "success") & ~((calls.part == "slowdown") & (calls.latency_s > 0.1))
    flags = pd.DataFrame({
        "good": good,
        "reached": after_start & ~after_end & (calls.outcome != "rejected"),
        # seconds from the fault's start to each rejection, from its end to each success
        "to_open": (calls.t_s - start).where((calls.outcome == "rejected") & after_start),
        "to_recover": (calls.t_s - end).where((calls.outcome == "success") & after_end),
        # Only the lab's breakers report transitions; the others have no listener here.
        "tracks": calls.tracks_state.astype(bool) if "tracks_state" in calls else False,
    })  # fmt: skip
    table = flags.groupby([calls[k] for k in keys], sort=False).agg(
        calls=("good", "size"), success_rate=("good", "mean"),
        reached_during_fault=("reached", "sum"), time_to_open_s=("to_open", "min"),
        time_to_recover_s=("to_recover", "min"), tracks=("tracks", "all"),
    )  # fmt: skip
    transitions = rows[rows.outcome == "transition"].groupby(keys, sort=False).size()
    table["transitions"] = transitions.reindex(table.index, fill_value=0).where(table.tracks)
    table = table.drop(columns="tracks").rename_axis(["scenario", "variant", "repeat"])
    table = table.reset_index()
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
