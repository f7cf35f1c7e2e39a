"""asv: static assets in headless Chromium, and what the handler and the rewrite cost.
Thin wrappers over ``lab.experiments.cdn``; the browser suite is skipped without Chromium."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, tracked
from lab.experiments.cdn import tables
from lab.experiments.cdn.site import VARIANTS, build_site
from lab.patterns.cdn import Manifest, RewriteSettings, StaticFiles, rewrite_html

CHROME = {"accept-encoding": "gzip, deflate, br",
          "accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}  # fmt: skip


class CdnBehaviour(ExperimentBehaviour):
    """One quick run: bytes per visit in Chromium, and the handler against aiohttp's."""

    experiment = "cdn"

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        cells = index_rows(tables.browser_summary(frame), ["profile", "variant", "visit"])
        cells.update(index_rows(tables.throughput_summary(frame), ["case", "server"]))
        return cells

    def track_repeat_visit_share(self, cells: Cells) -> float:
        return tracked(cells, ("10 Mbit/s, 40 ms", "all", "repeat"), "vs_own_first")

    track_repeat_visit_share.unit = "ratio"  # type: ignore[attr-defined]

    def track_optimized_first_visit_share(self, cells: Cells) -> float:
        return tracked(cells, ("10 Mbit/s, 40 ms", "all", "first"), "vs_unoptimized")

    track_optimized_first_visit_share.unit = "ratio"  # type: ignore[attr-defined]

    def track_lazy_first_visit_share(self, cells: Cells) -> float:
        return tracked(cells, ("10 Mbit/s, 40 ms", "lazy", "first"), "vs_unoptimized")

    track_lazy_first_visit_share.unit = "ratio"  # type: ignore[attr-defined]

    def track_handler_vs_aiohttp_static(self, cells: Cells) -> float:
        return tracked(cells, ("stylesheet, br", "lab StaticFiles"), "vs_aiohttp")

    track_handler_vs_aiohttp_static.unit = "ratio"  # type: ignore[attr-defined]


class CdnCost:
    """The handler's decision for one request, and rewriting the demo page."""

    def setup(self) -> None:
        self.site = build_site(VARIANTS["all"], 4, root=Path(tempfile.mkdtemp()))
        self.files = StaticFiles(self.site / "static")
        manifest = Manifest.load(self.site / "static" / "manifest.json")
        self.manifest = manifest
        self.css = manifest.entries["css/site.css"].path
        self.photo = manifest.entries["img/photo-00.jpg"].path
        self.page = next(self.site.parent.glob("source-4")).joinpath("page.html").read_text()

    def time_respond_stylesheet_br(self) -> None:
        self.files.respond("GET", self.css, CHROME)

    def time_respond_negotiated_photo(self) -> None:
        self.files.respond("GET", self.photo, CHROME)

    def time_rewrite_gallery_page(self) -> None:
        rewrite_html(self.page, self.manifest, RewriteSettings())

    def peakmem_static_files_table(self) -> None:
        StaticFiles(self.site / "static")
