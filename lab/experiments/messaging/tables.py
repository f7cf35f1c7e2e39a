"""Tables for the messaging experiment: medians over repeats with their min-max, the
ratios to Kafka's own tools, and the issue's targets against what was measured."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lab.experiments.tables import ReportTable, over_a_floor, spread_columns
from lab.experiments.tables import part_rows as _part

__all__ = [
    "TABLES",
    "broker_failure_summary",
    "consume_summary",
    "crash_summary",
    "end_to_end_summary",
    "lag_timeline",
    "produce_summary",
    "scale_summary",
    "targets",
]


def produce_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "produce")
    if rows.empty:
        return pd.DataFrame()
    return spread_columns(rows, ["case", "tool"], ["msgs_s", "mb_s", "p50_ms", "p99_ms", "vs_java"])


def consume_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "consume")
    return spread_columns(rows, ["tool"], ["msgs_s", "vs_java"]) if len(rows) else pd.DataFrame()


#: A consumed message's path, stage by stage (the consume part's tools).
CONSUME_STAGES = {
    "aiokafka getmany, max_records=500": "aiokafka getmany, 500 at a time: fetch and build "
    "records (the floor)",
    "KafkaBatchProcessor, batch handler": "KafkaBatchProcessor, batch handler: messages, "
    "offsets per fetch, one handler call per 500",
    "KafkaBatchProcessor, concurrency 1": "KafkaBatchProcessor, a handler call per message, 1 "
    "at a time",
    "KafkaBatchProcessor, concurrency 32": "KafkaBatchProcessor, a handler call per message, "
    "32 at a time",
    "KafkaBatchProcessor, partition order": "KafkaBatchProcessor, a handler call per message, "
    "in partition order (the path keyed order takes)",
    "ConsumerPerformance (fetch.nMsg.sec)": "ConsumerPerformance (Java)",
}


def consume_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """Where a consumed message's time goes: microseconds per message (1 / throughput) per
    stage of the path, and what each adds to aiokafka's own fetching in the same repeat."""
    rows = _part(frame, "consume")
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(us_per_message=1e6 / rows.msgs_s)
    return over_a_floor(rows, "tool", CONSUME_STAGES, "aiokafka getmany, max_records=500",
                        "us_per_message")  # fmt: skip


def end_to_end_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "end_to_end")
    if rows.empty:
        return pd.DataFrame()
    columns = [
        "messages",
        "expected_handled",
        "handled",
        "expected_dead_lettered",
        "dead_lettered",
        "undecodable",
        "retried",
        "duplicates",
        "msgs_s",
    ]
    return spread_columns(rows.assign(scenario="poison, failing and slow"), ["scenario"], columns)


def crash_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "crash")
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(duplicates_per_crash=rows.duplicates / rows.crashes)
    columns = ["messages", "crashes", "lost", "duplicates", "duplicates_per_crash", "seconds"]
    return spread_columns(rows.assign(scenario="SIGKILL mid-stream"), ["scenario"], columns)


def scale_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "scale_out")
    return spread_columns(rows, ["workers"], ["msgs_s", "vs_one"]) if len(rows) else pd.DataFrame()


def lag_timeline(frame: pd.DataFrame) -> pd.DataFrame:
    return _part(frame, "lag")[["repeat", "t_s", "lag", "handled"]]


def targets(frame: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    produce = produce_summary(frame)
    lab = produce[produce.tool == "aiokafka"] if len(produce) else produce
    if len(lab):
        base = lab.iloc[0].to_dict()
        best: dict[Any, Any] = lab.sort_values("vs_java").iloc[-1].to_dict()
        rows.append(
            {
                "target": "aiokafka producer >= 0.3x ProducerPerformance (100 B records)",
                "measured": f"{base['case']}: {base['vs_java']:.2f}x "
                f"[{base['vs_java_min']:.2f}-{base['vs_java_max']:.2f}]; best "
                f"{best['case']}: {best['vs_java']:.2f}x",
                "met": bool(base["vs_java"] >= 0.3),
            }
        )
    consume = consume_summary(frame)
    for prefix, what in (("aiokafka", "aiokafka consumer"), ("KafkaBatchProcessor", "processor")):
        chosen = consume[consume.tool.str.startswith(prefix)] if len(consume) else consume
        if len(chosen):
            top: dict[Any, Any] = chosen.sort_values("vs_java").iloc[-1].to_dict()
            rows.append(
                {
                    "target": f"{what} >= 0.3x ConsumerPerformance (fetch.nMsg.sec)",
                    "measured": f"{top['tool']}: {top['vs_java']:.2f}x "
                    f"[{top['vs_java_min']:.2f}-{top['vs_java_max']:.2f}]",
                    "met": bool(top["vs_java"] >= 0.3),
                }
            )
    crash = crash_summary(frame)
    if len(crash):
        c: dict[Any, Any] = crash.iloc[0].to_dict()
        rows.append(
            {
                "target": "no message lost when the processor is killed; duplicates "
                "bounded by one batch (500) per crash",
                "measured": f"lost {c['lost_max']:.0f} (worst of {c['runs']}); "
                f"duplicates per crash {c['duplicates_per_crash']:.0f} "
                f"[{c['duplicates_per_crash_min']:.0f}-{c['duplicates_per_crash_max']:.0f}]",
                "met": bool(c["lost_max"] == 0 and c["duplicates_per_crash_max"] <= 500),
            }
        )
    return pd.DataFrame(rows)


def broker_failure_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per producer setting: what a broker's death cost, over repeats; or why not run."""
    rows = _part(frame, "broker_failure")
    if rows.empty:
        return pd.DataFrame()
    if (rows.acks == "not run").all():
        return rows[["acks", "detail"]].drop_duplicates().reset_index(drop=True)
    rows = rows[rows.acks != "not run"].astype({"acks": str})
    return spread_columns(rows, ["acks"], [
        "acknowledged", "lost", "send_failed", "duplicates", "produce_pause_s",
        "consume_pause_s", "p99_before_ms", "p99_after_kill_ms",
    ])  # fmt: skip


TABLES = (
    ReportTable("The issue's targets, as measured", targets),
    ReportTable(
        "Producing: aiokafka and ProducerPerformance, same settings, same repeat", produce_summary
    ),
    ReportTable("Consuming 100-byte records, against ConsumerPerformance", consume_summary),
    ReportTable(
        "Where a consumed message's time goes: microseconds per message by stage, and what "
        "each adds to aiokafka's getmany in the same repeat",
        consume_stages,
    ),
    ReportTable("End to end with poison, failing and slow messages", end_to_end_summary),
    ReportTable("The worker killed mid-stream (SIGKILL)", crash_summary),
    ReportTable("Worker processes on an 8-partition topic, I/O-bound handlers", scale_summary),
    ReportTable(
        "A broker of three SIGKILLed mid-stream (the leader of partition 0)",
        broker_failure_summary,
    ),
)
