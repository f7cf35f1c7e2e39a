"""The messaging experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.messaging import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    produce = tables.produce_summary(frame)
    if len(produce):
        lab = produce[produce.tool == "aiokafka"]
        figures.append(
            plots.ratio_bars(
                lab,
                column="vs_java",
                label_columns=["case"],
                reference=0.3,
                xlabel="aiokafka messages/s / ProducerPerformance's, same settings (target 0.3)",
                title="Producing from Python, as a share of Kafka's own producer (median, min-max)",
            )
        )
    consume = tables.consume_summary(frame)
    if len(consume):
        python = consume[~consume.tool.str.startswith("ConsumerPerformance")]
        figures.append(
            plots.ratio_bars(
                python,
                column="vs_java",
                label_columns=["tool"],
                reference=0.3,
                xlabel="messages/s / ConsumerPerformance fetch.nMsg.sec (target 0.3)",
                title="Consuming from Python, as a share of Kafka's own consumer (median, min-max)",
            )
        )
    scale = tables.scale_summary(frame)
    if len(scale):
        figures.append(
            plots.ratio_bars(
                scale.assign(
                    label=scale.workers.map(lambda n: f"{n} worker{'s' if n > 1 else ''}")
                ),
                column="vs_one",
                label_columns=["label"],
                xlabel="messages/s relative to one worker",
                title="Scale-out on 8 partitions (median, min-max)",
            )
        )
    return figures
