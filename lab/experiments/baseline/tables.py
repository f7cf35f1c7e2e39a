"""The baseline experiment's tables: what the report, asv and the notebooks show."""

from __future__ import annotations

import pandas as pd

from lab.experiments.tables import ReportTable

__all__ = ["TABLES", "ratios", "slo_metrics"]


def ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per Python cell: its medians and, where a native tool ran, the ratio.

    The ratio is python/native throughput taken per repeat (both measured within the same
    minute), then summarised as median, min and max over the repeats.
    """
    cell = ["service", "operation", "concurrency"]
    python = frame[frame.client == "python"]
    natives = frame[frame.client == "native"]
    keys = ["service", "operation", "repeat"]
    exact = python.merge(natives, on=[*keys, "concurrency"], suffixes=("", "_native"))
    shared = natives[natives.concurrency == 0].drop(columns="concurrency")
    paired = pd.concat(
        [exact, python.merge(shared, on=keys, suffixes=("", "_native"))], ignore_index=True
    )
    paired["ratio"] = paired.throughput_ops_s / paired.throughput_ops_s_native
    measured = python.groupby(cell, sort=False).agg(
        python_ops_s=("throughput_ops_s", "median"),
        p50_ms=("latency_ms_p50", "median"),
        p99_ms=("latency_ms_p99", "median"),
    )
    compared = paired.groupby(cell, sort=False).agg(
        native_tool=("tool_native", "first"),
        native_ops_s=("throughput_ops_s_native", "median"),
        ratio=("ratio", "median"),
        ratio_min=("ratio", "min"),
        ratio_max=("ratio", "max"),
        runs=("ratio", "size"),
    )
    table = measured.join(compared, how="left").reset_index()
    table["native_tool"] = table.native_tool.fillna("(none)")
    table["runs"] = table.runs.fillna(0).astype(int)
    return table


def slo_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """What of the SLO this experiment measures: the database connections it held."""
    if "db_connections_percent" not in frame or frame.db_connections_percent.isna().all():
        return {}
    return {"db_connections_percent": float(frame.db_connections_percent.max())}


TABLES = (ReportTable("", ratios),)
