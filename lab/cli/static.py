"""``lab assets build`` (the asset pipeline over a folder) and ``lab serve-static`` (the
demo gallery behind the static handler)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lab.errors import ConfigError

__all__ = ["assets_app", "serve_static"]

console = Console()
assets_app = typer.Typer(help="The static-asset pipeline.", no_args_is_help=True)


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{what} must be comma-separated integers, not {text!r}") from None
    if any(value < 1 for value in values):
        raise ConfigError(f"{what} must be positive, not {text!r}")
    return values


@assets_app.command("build")
def build(
    source: Annotated[Path, typer.Argument(help="The folder of assets to process.")],
    out: Annotated[Path, typer.Argument(help="Where to write them (emptied first).")],
    fingerprint: Annotated[bool, typer.Option(help="Content-hash file names.")] = True,
    compress: Annotated[bool, typer.Option(help="Write .br and .gz twins.")] = True,
    formats: Annotated[str, typer.Option(help="Image formats, e.g. avif,webp ('' for none); "
                                         "default: what this Pillow encodes.")] = "auto",
    widths: Annotated[str, typer.Option(help="Image widths below the original.")] = "480,960",
) -> None:  # fmt: skip
    """Fingerprint, precompress and re-encode SOURCE into OUT, with a manifest.json."""
    from lab.patterns.cdn import PipelineSettings, build_assets

    if not source.is_dir():
        raise ConfigError(f"{source} is not a folder")
    chosen = None if formats == "auto" else tuple(f for f in formats.split(",") if f.strip())
    settings = PipelineSettings(
        fingerprint=fingerprint, encodings=("br", "gzip") if compress else (),
        image_formats=chosen, widths=_ints(widths, "--widths"),
    )  # fmt: skip
    try:
        manifest = build_assets(source, out, settings)
    except (ValueError, OSError) as error:
        raise ConfigError(str(error)) from None
    table = Table("asset", "written as", "bytes", "br", "gzip", "variants", title_justify="left",
                  title=f"{len(manifest.entries)} assets -> {out / 'manifest.json'}")  # fmt: skip
    for entry in manifest.entries.values():
        table.add_row(entry.name, entry.path, f"{entry.size:,}",
                      f"{entry.encodings['br']:,}" if "br" in entry.encodings else "-",
                      f"{entry.encodings['gzip']:,}" if "gzip" in entry.encodings else "-",
                      str(len(entry.variants)))  # fmt: skip
    console.print(table)


def serve_static(
    variant: Annotated[str, typer.Option(help="none, fingerprint, compression, "
                                         "modern images, lazy or all.")] = "all",
    images: Annotated[int, typer.Option(min=1, max=200, help="Photos in the gallery.")] = 24,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free one).")] = 8080,
    cdn_base_url: Annotated[str, typer.Option(
        help="Where the page loads assets from: /static/ here, or a CDN in front of it.")
    ] = "/static/",
) -> None:  # fmt: skip
    """Serve the demo gallery page with one set of optimizations, until Ctrl-C."""
    from lab.experiments.cdn.site import VARIANTS, build_site, serve

    if variant not in VARIANTS:
        raise ConfigError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    if not cdn_base_url.endswith("/"):
        raise ConfigError(f"--cdn-base-url must end with '/', not {cdn_base_url!r}")
    site = build_site(VARIANTS[variant], images, cdn_base_url=cdn_base_url)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(site, port))
