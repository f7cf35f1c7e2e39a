"""Open a local HTML file in headless Chromium, list what is wrong with it, and take a
picture of its top: how ``lab report`` checks the report it wrote.

Wrong is: a console error or an uncaught page error, a request that failed, an image that
did not decode, or any request that leaves the file (the report must open offline).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.harness.browser import launch_chromium

__all__ = ["PageCheck", "check_page"]

_BROKEN_IMAGES = """() => Array.from(document.images)
    .filter(image => !image.complete || image.naturalWidth === 0)
    .map(image => image.currentSrc || image.src || '(no src)')"""
_LOCAL = ("file:", "data:", "about:", "blob:")


@dataclass
class PageCheck:
    problems: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    svg_figures: int = 0


async def _check(url: str, screenshot: Path | None, width: int, height: int) -> PageCheck:
    found = PageCheck()
    async with launch_chromium() as browser:
        page = await browser.new_page(viewport={"width": width, "height": height})

        def console(message: Any) -> None:
            if message.type == "error":
                found.problems.append(f"console error: {message.text}")

        def request(sent: Any) -> None:
            if not sent.url.startswith(_LOCAL):
                found.problems.append(f"request leaves the file: {sent.url}")

        page.on("console", console)
        page.on("pageerror", lambda error: found.problems.append(f"page error: {error}"))
        page.on("request", request)
        page.on("requestfailed", lambda failed: found.problems.append(
            f"request failed: {failed.url} ({failed.failure})"))  # fmt: skip
        await page.goto(url, wait_until="load")
        found.problems.extend(f"broken image: {src}"
                              for src in await page.evaluate(_BROKEN_IMAGES))  # fmt: skip
        found.svg_figures = int(await page.evaluate("document.querySelectorAll('svg').length"))
        if screenshot is not None:
            await page.screenshot(path=str(screenshot), full_page=False)
            found.screenshot = screenshot
        await page.close()
    return found


def check_page(html: Path, screenshot: Path | None = None, *, width: int = 1280,
               height: int = 900) -> PageCheck:  # fmt: skip
    """Problems found in ``html``; a ``width`` × ``height`` picture of its top if asked."""
    return asyncio.run(_check(html.resolve().as_uri(), screenshot, width, height))
