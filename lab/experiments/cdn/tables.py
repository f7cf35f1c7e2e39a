"""Tables for the static-assets experiment: medians over repeats with min-max, bytes as a
share of the unoptimized page's in the same repeat, and the issue's targets."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lab.experiments.tables import ReportTable, spread_columns
from lab.experiments.tables import part_rows as _part

__all__ = [
    "TABLES",
    "browser_summary",
    "savings_summary",
    "skipped",
    "targets",
    "throughput_summary",
]


def _with_shares(rows: pd.DataFrame) -> pd.DataFrame:
    """Each visit's bytes against the unoptimized first visit, and a repeat visit's against
    its own variant's first visit, all within the same repeat and profile."""
    keys = ["repeat", "profile"]
    first = rows[rows.visit == "first"]
    none = first[first.variant == "none"].set_index(keys)["bytes"].rename("none_first")
    own = first.set_index([*keys, "variant"])["bytes"].rename("own_first")
    rows = rows.join(none, on=keys).join(own, on=[*keys, "variant"])
    return rows.assign(vs_unoptimized=rows.bytes / rows.none_first,
                       vs_own_first=rows.bytes / rows.own_first)  # fmt: skip


def browser_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "browser")
    if rows.empty:
        return pd.DataFrame()
    columns = ["bytes", "vs_unoptimized", "vs_own_first", "requests", "from_cache",
               "not_modified", "images_requested", "load_ms", "lcp_ms"]  # fmt: skip
    return spread_columns(_with_shares(rows), ["profile", "variant", "visit"], columns)


def savings_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Images: every photo's bytes per representation, summed; text: per asset."""
    rows = _part(frame, "savings")
    if rows.empty:
        return pd.DataFrame()
    images = rows[rows.kind == "image"]
    original = images[images.representation.str.startswith("original")].bytes.sum()
    by_format = images.groupby("representation", sort=False).agg(
        assets=("asset", "nunique"), bytes=("bytes", "sum")
    )
    by_format = by_format.reset_index().assign(
        kind="images (all photos)", asset="photos", vs_original=lambda t: t.bytes / original
    )
    text = rows[rows.kind == "text"].copy()
    sizes = text[text.representation.str.startswith("original")].set_index("asset").bytes
    text = text.assign(kind="text", assets=1, vs_original=text.bytes / text.asset.map(sizes))
    columns = ["kind", "asset", "representation", "assets", "bytes", "vs_original"]
    return pd.concat([by_format[columns], text[columns]], ignore_index=True)


def throughput_summary(frame: pd.DataFrame) -> pd.DataFrame:
    rows = _part(frame, "throughput")
    if rows.empty:
        return pd.DataFrame()
    return spread_columns(rows, ["case", "server"], ["rps", "vs_aiohttp", "errors"])


def targets(frame: pd.DataFrame) -> pd.DataFrame:
    out: list[dict[str, Any]] = []
    rows = _part(frame, "browser")
    if rows.empty:
        return pd.DataFrame(out)
    shares = _with_shares(rows)
    for profile, group in shares.groupby("profile", sort=False):
        repeat = group[(group.variant == "all") & (group.visit == "repeat")].vs_own_first
        first = group[(group.variant == "all") & (group.visit == "first")].vs_unoptimized
        for target, values, limit in (
            ("repeat visit / first visit, optimized page", repeat, 0.05),
            ("first visit, lazy + WebP/AVIF / unoptimized first visit", first, 0.5),
        ):
            if len(values):
                out.append({"target": target, "profile": profile, "limit": limit,
                            "median": values.median(), "worst": values.max(),
                            "runs": len(values), "met": bool(values.max() < limit)})  # fmt: skip
    return pd.DataFrame(out)


def _report_columns(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return table
    spread = [f"{c}{end}" for c in ("bytes", "load_ms", "lcp_ms") for end in ("", "_min", "_max")]
    return table[["profile", "variant", "visit", "runs", *spread, "vs_unoptimized",
                  "vs_own_first", "requests", "from_cache", "not_modified",
                  "images_requested"]]  # fmt: skip


def skipped(frame: pd.DataFrame) -> pd.DataFrame:
    """What the run left out, and why (the browser part without Chromium)."""
    rows = _part(frame, "skipped")
    return rows[["what", "reason"]] if len(rows) else rows


TABLES = (
    ReportTable("Skipped", skipped),
    ReportTable("Targets (median and worst over repeats)", targets),
    ReportTable(
        "The demo page in headless Chromium, per variant and visit (median, min-max)",
        lambda frame: _report_columns(browser_summary(frame)),
    ),
    ReportTable("Bytes per format and encoding, from the pipeline's manifest", savings_summary),
    ReportTable(
        "Requests/s for one asset, against aiohttp's static route in the same round",
        throughput_summary,
    ),
)
