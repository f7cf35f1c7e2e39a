"""The browser check of the report finds what is wrong with a page: console errors, broken
images, requests that leave the file; and passes a page with none."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.report.page_check import check_page

pytestmark = pytest.mark.usefixtures("chromium")

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_clean_page_passes_and_its_top_is_pictured(tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    page.write_text("<!doctype html><title>t</title><h1>fine</h1>"
                    "<svg width='10' height='10'><rect width='10' height='10'/></svg>")  # fmt: skip
    checked = check_page(page, tmp_path / "clean.png", width=640, height=400)
    assert checked.problems == [] and checked.svg_figures == 1
    assert (tmp_path / "clean.png").read_bytes().startswith(PNG)


def test_console_errors_broken_images_and_outside_requests_are_found(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><title>t</title>"
                    "<img src='missing.png' alt='gone'>"
                    "<img src='data:image/png;base64,AAAA' alt='garbage'>"
                    "<link rel='stylesheet' href='http://127.0.0.1:9/style.css'>"
                    "<script>console.error('boom')</script>")  # fmt: skip
    problems = check_page(page).problems
    assert any(p.startswith("console error: boom") for p in problems)
    assert sum(p.startswith("broken image:") for p in problems) == 2
    assert any(p == "request leaves the file: http://127.0.0.1:9/style.css" for p in problems)
