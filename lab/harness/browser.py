"""Headless Chromium (Debian's ``chromium``) through Playwright, and what one page visit
costs as the browser's DevTools Network domain sees it.

Playwright is given the system executable, so nothing is downloaded. Bytes are the
``encodedDataLength`` of every finished request: headers and body as they came over the
wire (compressed), zero for what the HTTP cache served. Throttling is DevTools'
``Network.emulateNetworkConditions`` (latency added per request, bandwidth shared).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from lab.errors import ConfigError

__all__ = [
    "PROFILES",
    "NetworkProfile",
    "OpenedPage",
    "PageVisit",
    "browser_missing",
    "chromium_path",
    "launch_chromium",
    "opened",
    "scroll_to_bottom",
    "visit",
]

#: Records the page's Largest Contentful Paint candidates from the start.
_LCP_PROBE = """
window.__labLcp = 0;
new PerformanceObserver(function (list) {
  var entries = list.getEntries();
  window.__labLcp = entries[entries.length - 1].startTime;
}).observe({type: "largest-contentful-paint", buffered: true});
"""


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    latency_ms: float = 0.0
    mbit_s: float | None = None  # None: unthrottled

    def conditions(self) -> dict[str, Any]:
        rate = -1 if self.mbit_s is None else self.mbit_s * 1e6 / 8
        return {"offline": False, "latency": self.latency_ms, "downloadThroughput": rate,
                "uploadThroughput": rate}  # fmt: skip


PROFILES = {
    p.name: p
    for p in (NetworkProfile("10 Mbit/s, 40 ms", 40.0, 10.0), NetworkProfile("unthrottled"))
}


@dataclass
class PageVisit:
    bytes: int = 0
    requests: int = 0  # everything the page asked for, from the network or the cache
    from_cache: int = 0  # answered by the browser's HTTP cache without a request
    not_modified: int = 0  # revalidated: the server answered 304
    load_ms: float = float("nan")
    lcp_ms: float = float("nan")
    urls: list[str] = field(default_factory=list)  # in the order they were requested
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions


def chromium_path() -> str | None:
    """``LAB_CHROMIUM``, else the first of chromium, chromium-browser, google-chrome."""
    if found := os.environ.get("LAB_CHROMIUM"):
        return found
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def browser_missing() -> str | None:
    """Why no browser can be launched here (with how to fix it), or ``None``."""
    if chromium_path() is None:
        return ("chromium is not installed: `apt-get install chromium`, or set LAB_CHROMIUM "
                "to a Chromium or Chrome executable")  # fmt: skip
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install 'perflab[browser]'"
    return None


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Any]:
    """A headless Chromium browser (Playwright's ``Browser``)."""
    missing = browser_missing()
    if missing:
        raise ConfigError(missing)
    from playwright.async_api import async_playwright

    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-extensions"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            await browser.close()


async def _quiet(inflight: set[str], quiet_s: float, limit_s: float) -> None:
    """Until no request has been in flight for ``quiet_s`` (at most ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    calm_since = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if inflight:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet_s:
            return


class _Recorder:
    def __init__(self, result: PageVisit) -> None:
        self.result = result
        self.inflight: set[str] = set()
        self.cached_ids: set[str] = set()

    def sent(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        if url.startswith("data:"):
            return
        if event.get("redirectResponse") is None:
            self.result.requests += 1
        self.result.urls.append(url)
        self.inflight.add(event["requestId"])

    def cached(self, event: dict[str, Any]) -> None:
        self.cached_ids.add(event["requestId"])

    def response(self, event: dict[str, Any]) -> None:
        answer = event["response"]
        if answer.get("fromDiskCache") or answer.get("fromMemoryCache"):
            self.cached_ids.add(event["requestId"])

    def raw_response(self, event: dict[str, Any]) -> None:
        # responseReceived reports a revalidated entry as 200; the wire status is here.
        if event.get("statusCode") == 304:
            self.result.not_modified += 1

    def finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.inflight:
            self.inflight.discard(event["requestId"])
            self.result.bytes += int(event.get("encodedDataLength", 0))
            if event["requestId"] in self.cached_ids:
                self.result.from_cache += 1

    def failed(self, event: dict[str, Any]) -> None:
        self.inflight.discard(event["requestId"])


@dataclass
class OpenedPage:
    page: Any  # Playwright's Page
    visit: PageVisit
    inflight: set[str]


@asynccontextmanager
async def opened(context: Any, url: str, profile: NetworkProfile, *, quiet_s: float = 0.5,
                 limit_s: float = 60.0) -> AsyncIterator[OpenedPage]:  # fmt: skip
    """Open ``url`` in a new page of ``context`` (whose HTTP cache later pages share), wait
    for the load event and then for the network to be quiet; close the page on exit."""
    result = PageVisit()
    page = await context.new_page()
    page.on("console", lambda m: result.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: result.errors.append(str(error)))
    try:
        await page.add_init_script(_LCP_PROBE)
        cdp = await context.new_cdp_session(page)
        recorder = _Recorder(result)
        cdp.on("Network.requestWillBeSent", recorder.sent)
        cdp.on("Network.requestServedFromCache", recorder.cached)
        cdp.on("Network.responseReceived", recorder.response)
        cdp.on("Network.responseReceivedExtraInfo", recorder.raw_response)
        cdp.on("Network.loadingFinished", recorder.finished)
        cdp.on("Network.loadingFailed", recorder.failed)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", profile.conditions())
        await page.goto(url, wait_until="load", timeout=limit_s * 1000)
        await _quiet(recorder.inflight, quiet_s, limit_s)
        timing = await page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n ? n.loadEventEnd : NaN, window.__labLcp || NaN]; }"
        )
        result.load_ms, result.lcp_ms = float(timing[0]), float(timing[1])
        yield OpenedPage(page, result, recorder.inflight)
    finally:
        await page.close()


async def visit(context: Any, url: str, profile: NetworkProfile) -> PageVisit:
    """What loading ``url`` once costs (see :func:`opened`)."""
    async with opened(context, url, profile) as page:
        return page.visit


async def scroll_to_bottom(opened_page: OpenedPage, step_px: int = 600,
                           pause_s: float = 0.15) -> None:  # fmt: skip
    """Scroll like a reader, a screen at a time, then wait for the network to be quiet."""
    page = opened_page.page
    height = await page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, int(height) + step_px, step_px):
        await page.evaluate(f"window.scrollTo(0, {y})")
        await asyncio.sleep(pause_s)
    await _quiet(opened_page.inflight, 0.5, 30.0)
