"""The demo gallery in headless Chromium: images below the fold are not requested until
the reader scrolls to them, with native lazy loading and with the lab's
IntersectionObserver loader; the page logs no error."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import web

from lab.experiments.cdn.measure import served
from lab.experiments.cdn.site import VARIANTS, build_site
from lab.harness.browser import PROFILES, launch_chromium, opened, scroll_to_bottom
from lab.patterns.cdn import Manifest, RewriteSettings, StaticFiles, add_static_route, rewrite_html

IMAGES = 16
pytestmark = pytest.mark.usefixtures("chromium")


def _photos(urls: list[str]) -> set[int]:
    return {int(m.group(1)) for url in urls if (m := re.search(r"/photo-(\d+)\.", url))}


async def _scrolled(url: str) -> tuple[set[int], set[int], list[str]]:
    async with launch_chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        async with opened(context, url, PROFILES["unthrottled"]) as page:
            before = _photos(page.visit.urls)
            await scroll_to_bottom(page)
            after = _photos(page.visit.urls)
            return before, after, page.visit.errors


def test_native_lazy_loading_defers_images_below_the_fold() -> None:
    site = build_site(VARIANTS["lazy"], IMAGES)

    async def check() -> tuple[set[int], set[int], list[str]]:
        async with served(site) as url:
            return await _scrolled(url)

    before, after, errors = asyncio.run(check())
    assert 0 in before  # the first photo is eager
    assert IMAGES - 1 not in before and len(before) < IMAGES // 2
    assert after == set(range(IMAGES))
    assert errors == []


def test_the_observer_loader_defers_images_until_scrolled() -> None:
    site = build_site(VARIANTS["fingerprint"], IMAGES)
    manifest = Manifest.load(site / "static" / "manifest.json")
    source = next(site.parent.glob(f"source-{IMAGES}")) / "page.html"
    page = rewrite_html(source.read_text(), manifest, RewriteSettings(lazy="script"))
    page = page.replace('<html lang="en">', '<html lang="en" data-lab-lazy="observer">')
    assert 'data-lab-lazy="observer"' in page

    async def check() -> tuple[set[int], set[int], list[str]]:
        app = web.Application()

        async def index(request: web.Request) -> web.Response:
            return web.Response(text=page, content_type="text/html")

        app.router.add_get("/", index)
        add_static_route(app, "/static", StaticFiles(site / "static"))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            return await _scrolled(f"http://127.0.0.1:{runner.addresses[0][1]}/")
        finally:
            await runner.cleanup()

    before, after, errors = asyncio.run(check())
    assert 0 in before and IMAGES - 1 not in before and len(before) <= 4
    assert after == set(range(IMAGES))
    assert errors == []
