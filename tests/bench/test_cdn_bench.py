"""pytest-benchmark: the static handler's decision, the HTML rewrite, and the experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.benchmark_cdn import CdnBehaviour
from lab.experiments.cdn import tables
from lab.experiments.cdn.site import VARIANTS, build_site
from lab.patterns.cdn import Manifest, RewriteSettings, StaticFiles, rewrite_html
from tests.bench.asv_tracks import tracked_values

CHROME = {"accept-encoding": "gzip, deflate, br",
          "accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(VARIANTS["all"], 4, root=tmp_path_factory.mktemp("site"))


@pytest.mark.benchmark(group="cdn")
def test_respond_to_a_negotiated_photo(benchmark: Any, site: Path) -> None:
    files = StaticFiles(site / "static")
    photo = Manifest.load(site / "static" / "manifest.json").entries["img/photo-00.jpg"].path
    answer = benchmark(files.respond, "GET", photo, CHROME)
    assert answer.status == 200 and dict(answer.headers)["Vary"] == "Accept"


@pytest.mark.benchmark(group="cdn")
def test_rewrite_the_gallery_page(benchmark: Any, site: Path) -> None:
    manifest = Manifest.load(site / "static" / "manifest.json")
    page = (site.parent / "source-4" / "page.html").read_text()
    html = benchmark(rewrite_html, page, manifest, RewriteSettings())
    assert html.count("<picture>") == 4


def test_cdn_experiment(benchmark: Any, quick_frame: Any, chromium: None) -> None:
    frame = quick_frame("cdn")
    benchmark.extra_info["asv"] = tracked_values(CdnBehaviour, frame)
    targets = tables.targets(frame)
    benchmark.extra_info["targets"] = targets.to_dict("records")
    assert len(targets) == 2
    assert {"browser", "savings", "throughput"} <= set(frame.part)
