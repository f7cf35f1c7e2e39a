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
        figures.append(plots.ratio_bars(
            lab.assign(ratio=lab.vs_java, ratio_min=lab.vs_java_min, ratio_max=lab.vs_java_max),
            label_columns=["case"], reference=0.3,
            xlabel="aiokafka messages/s / ProducerPerformance's, same settings (target 0.3)",
            title="Producing from Python, as a share of Kafka's own producer (median, min-max)",
        ))  # fmt: skip
    consume = tables.consume_summary(frame)
    if len(consume):
        python = consume[~consume.tool.str.startswith("ConsumerPerformance")]
        figures.append(plots.ratio_bars(
            python.assign(ratio=python.vs_java, ratio_min=python.vs_java_min,
                          ratio_max=python.vs_java_max),
            label_columns=["tool"], reference=0.3,
            xlabel="messages/s / ConsumerPerformance fetch.nMsg.sec (target 0.3)",
            title="Consuming from Python, as a share of Kafka's own consumer (median, min-max)",
        ))  # fmt: skip
    scale = tables.scale_summary(frame)
    if len(scale):
        figures.append(plots.ratio_bars(
            scale.assign(ratio=scale.vs_one, ratio_min=scale.vs_one_min,
                         ratio_max=scale.vs_one_max, label=scale.workers.map(
                             lambda n: f"{n} worker{'s' if n > 1 else ''}")),
            label_columns=["label"], xlabel="messages/s relative to one worker",
            title="Scale-out on 8 partitions (median, min-max)",
        ))  # fmt: skip
    return figures
