"""Static assets: what each optimization saves a real browser, and what the handler costs.

* ``browser``: the demo gallery (:mod:`lab.experiments.cdn.site`) in headless Chromium,
  once per variant (nothing, each optimization alone, all of them), first visit and
  repeat visit in the same browser context, per network profile. Bytes are what came
  over the wire (DevTools ``encodedDataLength``); a repeat visit opens a new tab.
* ``savings``: bytes of each format and width of the demo photos, and of each encoding of
  the text assets, from the pipeline's manifest (deterministic: no repeats).
* ``throughput``: requests/s for one asset from :class:`StaticFiles` (files held in
  memory, its default up to 1 MiB, and read from disk per request) and from aiohttp's
  own static route over the same folder, in one server process, closed loop with the
  lab's client; the order alternates by round and the ratio is taken within a round.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
from aiohttp import web

from lab.experiments.cdn.site import VARIANTS, build_site, site_app
from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.harness.aio import new_runner, outside_event_loop
from lab.harness.browser import PROFILES, browser_missing, launch_chromium, visit
from lab.harness.loadgen import LoadSettings, run_load
from lab.harness.url_process import url_process
from lab.patterns.cdn import Manifest

__all__ = ["CdnSettings", "quick_settings", "run", "served"]


#: (case, asset in the manifest, request headers); the same request goes to both servers.
THROUGHPUT_CASES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("stylesheet, br", "css/site.css", {"Accept-Encoding": "gzip, deflate, br"}),
    ("photo, 180 KB", "img/photo-00.jpg", {}),
    ("revalidation, 304", "css/site.css", {"Accept-Encoding": "gzip, deflate, br"}),
)


@dataclass(frozen=True)
class CdnSettings:
    repeats: int = 3
    images: int = 24
    variants: tuple[str, ...] = tuple(VARIANTS)
    profiles: tuple[str, ...] = tuple(PROFILES)
    rounds: int = 5
    round_s: float = 2.0
    users: int = 16
    parts: tuple[str, ...] = ("browser", "savings", "throughput")

    @classmethod
    def quick(cls) -> CdnSettings:
        return cls(repeats=1, images=12, variants=("none", "lazy", "modern images", "all"),
                   profiles=("10 Mbit/s, 40 ms",), rounds=1, round_s=0.5)  # fmt: skip


@contextlib.asynccontextmanager
async def served(site: Path) -> Any:
    """The site on 127.0.0.1 in this event loop; yields its URL."""
    runner = web.AppRunner(site_app(site), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def _browser(s: CdnSettings, repeat: int, progress: Callable[[str], None]) -> list[Row]:
    rows = []
    order = s.variants if repeat % 2 == 0 else tuple(reversed(s.variants))
    async with launch_chromium() as browser:
        for name in order:
            site = build_site(VARIANTS[name], s.images)
            async with served(site) as url:
                for profile_name in s.profiles:
                    progress(f"cdn: {name}, {profile_name}, repeat {repeat + 1}/{s.repeats}")
                    context = await browser.new_context()
                    try:
                        for visit_name in ("first", "repeat"):
                            seen = await visit(context, url, PROFILES[profile_name])
                            rows.append({
                                "part": "browser", "repeat": repeat, "variant": name,
                                "profile": profile_name, "visit": visit_name,
                                "bytes": seen.bytes, "requests": seen.requests,
                                "from_cache": seen.from_cache, "not_modified": seen.not_modified,
                                "images_requested": sum("/img/" in u for u in seen.urls),
                                "load_ms": seen.load_ms, "lcp_ms": seen.lcp_ms,
                            })  # fmt: skip
                    finally:
                        await context.close()
    return rows


def _savings(s: CdnSettings) -> list[Row]:
    site = build_site(VARIANTS["all"], s.images)
    manifest = Manifest.load(site / "static" / "manifest.json")
    rows: list[Row] = []
    for entry in manifest.entries.values():
        kind = "image" if entry.width else "text"
        rows.append({"part": "savings", "repeat": 0, "asset": entry.name, "kind": kind,
                     "representation": f"original ({entry.content_type.split('/')[1]})",
                     "width": entry.width, "bytes": entry.size})  # fmt: skip
        for coding, size in entry.encodings.items():
            rows.append({"part": "savings", "repeat": 0, "asset": entry.name, "kind": kind,
                         "representation": coding, "width": None, "bytes": size})  # fmt: skip
        for variant in entry.variants:
            rows.append({"part": "savings", "repeat": 0, "asset": entry.name, "kind": kind,
                         "representation": f"{variant.format} {variant.width}w",
                         "width": variant.width, "bytes": variant.size})  # fmt: skip
    return rows


@contextlib.contextmanager
def _throughput_server(images: int) -> Iterator[str]:
    argv = [sys.executable, "-m", "lab.experiments.cdn.site", "--variant", "all",
            "--images", str(images), "--aiohttp-static"]  # fmt: skip
    with url_process(argv, "the static-assets server") as url:
        yield url


async def _etag(url: str, headers: dict[str, str]) -> str:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        await answer.read()
        return answer.headers.get("ETag", "")


def _rate(url: str, headers: dict[str, str], s: CdnSettings) -> tuple[float, int]:
    settings = LoadSettings(url, mode="closed", users=s.users, duration_s=s.round_s,
                            headers=headers)  # fmt: skip
    with new_runner() as runner:
        result = runner.run(run_load(settings))
    return result.achieved_rps, result.errors


def _throughput(s: CdnSettings, repeat: int) -> list[Row]:
    site = build_site(VARIANTS["all"], s.images)
    manifest = Manifest.load(site / "static" / "manifest.json")
    rows = []
    with _throughput_server(s.images) as base:
        for case, asset, headers in THROUGHPUT_CASES:
            path = manifest.entries[asset].path
            urls = {"lab StaticFiles": f"{base}static/{path}",
                    "lab StaticFiles, from disk": f"{base}static-disk/{path}",
                    "aiohttp add_static": f"{base}aiohttp-static/{path}"}  # fmt: skip
            sent = {}
            for server, url in urls.items():
                sent[server] = dict(headers)
                if case.startswith("revalidation"):
                    with new_runner() as runner:
                        sent[server]["If-None-Match"] = runner.run(_etag(url, headers))
            for round_ in range(s.rounds):
                order = list(urls) if round_ % 2 == 0 else list(reversed(urls))
                measured = {server: _rate(urls[server], sent[server], s) for server in order}
                reference = measured["aiohttp add_static"][0] or float("nan")
                for server, (rps, errors) in measured.items():
                    rows.append({"part": "throughput", "repeat": repeat, "round": round_,
                                 "case": case, "server": server, "rps": rps, "errors": errors,
                                 "vs_aiohttp": rps / reference})  # fmt: skip
    return rows


@outside_event_loop
def run(
    *, quick: bool = False, settings: CdnSettings | None = None, progress: Progress | None = None
) -> pd.DataFrame:
    s = chosen_settings(CdnSettings, settings, quick)
    say = progress or (lambda _: None)
    for name in s.variants:  # build first, so no build lands inside a measurement
        say(f"cdn: building the {name!r} site")
        build_site(VARIANTS[name], s.images)
    missing = browser_missing() if "browser" in s.parts else None

    def browser(s: CdnSettings, repeat: int) -> list[Row] | Awaitable[list[Row]]:
        if missing:  # said once, in the first repeat
            say(f"cdn: browser part skipped: {missing}")
            return [{"part": "skipped", "repeat": 0, "what": "browser", "reason": missing}][
                : int(repeat == 0)
            ]
        return _browser(s, repeat, say)

    parts: dict[str, Part[CdnSettings]] = {
        "savings": lambda s, repeat: _savings(s) if repeat == 0 else [],  # bytes: no spread
        "browser": browser,
        "throughput": _throughput,
    }
    order = [part for part in ("savings", "browser", "throughput") if part in s.parts]
    return drive("cdn", s, order, parts, progress)


def quick_settings(**overrides: Any) -> CdnSettings:
    return replace(CdnSettings.quick(), **overrides)
