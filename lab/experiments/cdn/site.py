"""The demo page of the static-assets experiment: a long gallery, a stylesheet and a
script, built with each optimization on or off and served by :class:`StaticFiles`.

The photos are synthetic (smooth colour fields with sensor-like noise, seeded) and the
stylesheet generated (600 utility rules), so the page is the same on every machine and
nothing is downloaded; the script is real (matplotlib's web backend, 25 KB). How much a
format or an encoding saves depends on content: these figures are for this page.

``lab serve-static`` serves one variant; ``python -m lab.experiments.cdn.site`` does
the same and prints its URL first, for the throughput part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
import numpy as np
from aiohttp import web
from PIL import Image

from lab.config import lab_home
from lab.harness.aio import stop_signals
from lab.patterns.cdn import (
    PipelineSettings,
    RewriteSettings,
    StaticFiles,
    add_static_route,
    build_assets,
    rewrite_html,
)
from lab.patterns.cdn.pipeline import compress

__all__ = ["VARIANTS", "SiteVariant", "build_site", "main", "make_source", "serve", "site_app"]


@dataclass(frozen=True)
class SiteVariant:
    name: str
    fingerprint: bool = False  # hashed names + immutable; off: revalidate every asset
    compression: bool = False  # .br/.gz twins of text assets and of the page
    modern_images: bool = False  # AVIF/WebP at several widths in <picture>/srcset
    lazy: bool = False  # loading="lazy" below the fold


VARIANTS = {
    v.name: v
    for v in (
        SiteVariant("none"),
        SiteVariant("fingerprint", fingerprint=True),
        SiteVariant("compression", compression=True),
        SiteVariant("modern images", modern_images=True),
        SiteVariant("lazy", lazy=True),
        SiteVariant("all", True, True, True, True),
    )
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lab: static assets demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="css/site.css">
<script src="js/app.js" defer></script>
</head>
<body>
<header><h1>Gallery</h1><p>{count} photographs, one per row.</p></header>
<main class="gallery">
{figures}
</main>
</body>
</html>
"""


def _photo(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x *= 2 * np.pi / width
    y *= 2 * np.pi / height
    field = np.zeros((height, width, 3), np.float32)
    for channel in range(3):
        for _ in range(4):
            fx, fy = rng.uniform(0.5, 4.0, 2)
            field[..., channel] += np.sin(fx * x + fy * y + rng.uniform(0, 6.3))
    field = (field - field.min()) / (np.ptp(field) or 1.0) * 220 + 15
    field += rng.normal(0, 6, field.shape).astype(np.float32)
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))


def _stylesheet(rng: random.Random) -> str:
    props = ["margin", "padding", "color", "background", "border", "font-size", "gap",
             "line-height", "display", "grid-template-columns", "box-shadow"]  # fmt: skip
    rules = ["body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#222}",
             ".gallery{max-width:960px;margin:0 auto;padding:0 16px}",
             ".gallery figure{margin:0 0 24px}",
             ".gallery img{display:block;width:100%;height:auto;background:#ddd}"]  # fmt: skip
    for index in range(600):  # a framework's worth of rules, as real sites ship
        body = ";".join(f"{rng.choice(props)}:{rng.randint(0, 64)}px" for _ in range(4))
        rules.append(f".c-{index:03d}-{rng.choice(['card', 'nav', 'btn', 'grid'])}{{{body}}}")
    return "\n".join(rules) + "\n"


def _script() -> str:
    """Real JavaScript, so its compression ratio is a real one: matplotlib's web backend
    (matplotlib is a dependency of the lab)."""
    web_backend = Path(matplotlib.__file__).parent / "backends" / "web_backend" / "js"
    parts = [(web_backend / name).read_text(encoding="utf-8")
             for name in ("mpl.js",)]  # fmt: skip
    return "\n".join(parts) + "\ndocument.documentElement.dataset.ready = 'yes';\n"


def make_source(folder: Path, images: int, seed: int = 7) -> None:
    """Write the demo's source assets and page template into ``folder``."""
    rng, text_rng = np.random.default_rng(seed), random.Random(seed)
    for sub in ("img", "css", "js"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for index in range(images):
        photo = _photo(rng, 1200, 800)
        photo.save(folder / "img" / f"photo-{index:02d}.jpg", quality=88)
    (folder / "css" / "site.css").write_text(_stylesheet(text_rng))
    (folder / "js" / "app.js").write_text(_script())
    figures = "\n".join(
        f'<figure><img src="img/photo-{i:02d}.jpg" alt="photograph {i + 1}">'
        f"<figcaption>Photograph {i + 1}</figcaption></figure>"
        for i in range(images)
    )
    (folder / "page.html").write_text(_PAGE.format(count=images, figures=figures))


def build_site(variant: SiteVariant, images: int, root: Path | None = None,
               cdn_base_url: str = "/static/") -> Path:  # fmt: skip
    """Build (or reuse) ``variant``'s site: ``<dir>/static`` (assets) and ``<dir>/page``
    (``index.html`` and its twins). Returns ``<dir>``."""
    root = root or lab_home() / "static-demo"
    key = hashlib.sha256(json.dumps([asdict(variant), images, cdn_base_url]).encode())
    site = root / f"{variant.name.replace(' ', '-')}-{key.hexdigest()[:10]}"
    if (site / "page" / "index.html").is_file():
        return site
    source = root / f"source-{images}"
    if not (source / "page.html").is_file():
        make_source(source / "tmp", images)
        (source / "tmp").rename(source / "assets")
        (source / "assets" / "page.html").rename(source / "page.html")
    settings = PipelineSettings(
        fingerprint=variant.fingerprint,
        encodings=("br", "gzip") if variant.compression else (),
        image_formats=None if variant.modern_images else (),
        widths=(480, 960) if variant.modern_images else (),
    )
    building = site.with_name(site.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    manifest = build_assets(source / "assets", building / "static", settings)
    rewrite = RewriteSettings(base_url=cdn_base_url, lazy="native" if variant.lazy else "off",
                              picture=variant.modern_images, eager_images=1)  # fmt: skip
    page = rewrite_html((source / "page.html").read_text(), manifest, rewrite)
    (building / "page").mkdir()
    (building / "page" / "index.html").write_text(page)
    for coding, suffix in (("br", ".br"), ("gzip", ".gz")) if variant.compression else ():
        (building / "page" / f"index.html{suffix}").write_bytes(compress(page.encode(), coding))
    building.rename(site)
    return site


def site_app(site: Path, *, aiohttp_static: bool = False) -> web.Application:
    """``/`` is the page, ``/static/`` the assets; ``aiohttp_static`` also mounts the same
    folder with aiohttp's own static route at ``/aiohttp-static/`` and with StaticFiles
    reading every file from disk at ``/static-disk/``, to compare against."""
    app = web.Application()
    page = StaticFiles(site / "page")

    async def index(request: web.Request) -> web.Response:
        answer = page.respond(request.method, "index.html", request.headers)
        return web.Response(status=answer.status, headers=answer.headers, body=answer.body)

    app.router.add_route("GET", "/", index)
    add_static_route(app, "/static", StaticFiles(site / "static"))
    if aiohttp_static:
        app.router.add_static("/aiohttp-static", site / "static")
        add_static_route(app, "/static-disk", StaticFiles(site / "static", memory_limit=0))
    return app


async def serve(site: Path, port: int, aiohttp_static: bool = False) -> None:
    runner = web.AppRunner(site_app(site, aiohttp_static=aiohttp_static), access_log=None)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await server.start()
    bound = runner.addresses[0][1]
    try:
        with stop_signals() as stop:
            print(f"serving http://127.0.0.1:{bound}/ ({site.name})", flush=True)
            await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="all")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cdn-base-url", default="/static/")
    parser.add_argument("--aiohttp-static", action="store_true")
    args = parser.parse_args(argv)
    site = build_site(VARIANTS[args.variant], args.images, cdn_base_url=args.cdn_base_url)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(site, args.port, args.aiohttp_static))


if __name__ == "__main__":
    main()
