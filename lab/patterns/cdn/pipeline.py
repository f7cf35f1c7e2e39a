"""The asset pipeline: a source folder in, a folder a CDN can cache forever out.

* every file is copied under a content-hash name (``site.css`` -> ``site.1a2b3c4d5e6f.css``)
  and listed in ``manifest.json``; ``url(...)`` references inside CSS are rewritten to
  the hashed names first, so a stylesheet's hash changes when an image it uses changes;
* text assets get precompressed ``.br`` and ``.gz`` twins, kept only when they save at
  least ``min_saving`` (5 %, as WhiteNoise);
* raster images (JPEG, PNG) get WebP and, where the installed Pillow encodes it, AVIF
  variants at each width in ``widths`` below the original and at the original width,
  plus the original format at the smaller widths for ``srcset``. A variant no smaller
  than the original is dropped, so no client is ever sent a bigger file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import mimetypes
import posixpath
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from PIL import Image, features

from lab.patterns.cdn.manifest import TWIN_SUFFIX, AssetEntry, Manifest, Variant

__all__ = [
    "PipelineSettings",
    "available_image_formats",
    "build_assets",
    "compress",
    "content_type",
    "is_compressible",
]

_TEXT_SUFFIXES = {
    ".css",
    ".js",
    ".mjs",
    ".json",
    ".html",
    ".htm",
    ".svg",
    ".txt",
    ".xml",
    ".map",
    ".wasm",
    ".ico",
}
_RASTER_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
_EXTRA_TYPES = {
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".woff2": "font/woff2",
    ".map": "application/json",
    ".wasm": "application/wasm",
}
_SUFFIX = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "avif": ".avif"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def content_type(path: str) -> str:
    suffix = posixpath.splitext(path)[1].lower()
    found = _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(path)[0]
    return found or "application/octet-stream"


def is_compressible(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in _TEXT_SUFFIXES


def available_image_formats() -> tuple[str, ...]:
    """Modern formats this Pillow can encode, best first."""
    return tuple(fmt for fmt in ("avif", "webp") if features.check(fmt))


@dataclass(frozen=True)
class PipelineSettings:
    fingerprint: bool = True
    encodings: tuple[str, ...] = ("br", "gzip")
    #: ``None``: every format of :func:`available_image_formats`; ``()``: none.
    image_formats: tuple[str, ...] | None = None
    widths: tuple[int, ...] = (480, 960)
    quality: dict[str, int] = field(default_factory=lambda: {"avif": 55, "webp": 78, "jpeg": 82})
    min_saving: float = 0.05
    hash_length: int = 12

    def formats(self) -> tuple[str, ...]:
        if self.image_formats is None:
            return available_image_formats()
        missing = set(self.image_formats) - set(available_image_formats())
        if missing:
            raise ValueError(f"this Pillow cannot encode {', '.join(sorted(missing))}")
        return self.image_formats


def _digest(data: bytes, length: int) -> str:
    return hashlib.sha256(data).hexdigest()[:length]


def _hashed(name: str, digest: str, settings: PipelineSettings, tag: str = "") -> str:
    stem, suffix = posixpath.splitext(name)
    parts = [stem, tag] if tag else [stem]
    if settings.fingerprint:
        parts.append(digest)
    return ".".join(parts) + suffix


def _sources(source: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path.relative_to(source).as_posix(), path


def compress(data: bytes, coding: str) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(data, quality=11))
    if coding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    raise ValueError(f"unknown content coding {coding!r}; use br or gzip")


def _write(out: Path, rel: str, data: bytes) -> None:
    target = out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _rewrite_css(name: str, text: str, done: dict[str, AssetEntry]) -> str:
    folder = posixpath.dirname(name)

    def swap(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "http:", "https:", "//", "/", "#")):
            return match.group(0)
        clean = ref.split("#")[0].split("?")[0]
        target = posixpath.normpath(posixpath.join(folder, clean))
        if target not in done:
            return match.group(0)
        new = posixpath.relpath(done[target].path, folder or ".")
        return f"url({match.group(1)}{new}{match.group(1)})"

    return _CSS_URL.sub(swap, text)


def _encode(image: Image.Image, fmt: str, settings: PipelineSettings) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(
            buffer, "JPEG", quality=settings.quality["jpeg"], optimize=True, progressive=True
        )
    elif fmt == "png":
        image.save(buffer, "PNG", optimize=True)
    else:
        image.save(buffer, fmt.upper(), quality=settings.quality[fmt])
    return buffer.getvalue()


def _variants(
    name: str, data: bytes, settings: PipelineSettings, out: Path
) -> tuple[int, int, tuple[Variant, ...]]:
    original_format = _RASTER_FORMATS[posixpath.splitext(name)[1].lower()]
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"{name} is not a readable image ({type(error).__name__})") from None
    with opened:
        image = opened if opened.mode in ("RGB", "RGBA") else opened.convert("RGBA")
        width, height = image.size
        widths = sorted({w for w in settings.widths if w < width} | {width})
        variants = []
        for target_width in widths:
            target_height = max(1, round(height * target_width / width))
            resized = (
                image
                if target_width == width
                else image.resize((target_width, target_height), Image.Resampling.LANCZOS)
            )
            formats = list(settings.formats())
            if target_width != width:
                formats.append(original_format)
            for fmt in formats:
                encoded = _encode(resized, fmt, settings)
                if len(encoded) >= len(data):
                    continue
                stem = posixpath.splitext(name)[0] + _SUFFIX[fmt]
                path = _hashed(
                    stem, _digest(encoded, settings.hash_length), settings, f"{target_width}w"
                )
                _write(out, path, encoded)
                variants.append(Variant(path, fmt, target_width, target_height, len(encoded)))
    return width, height, tuple(variants)


def _entry(name: str, data: bytes, settings: PipelineSettings, out: Path) -> AssetEntry:
    digest = _digest(data, settings.hash_length)
    path = _hashed(name, digest, settings)
    _write(out, path, data)
    encodings = {}
    if is_compressible(name):
        for coding in settings.encodings:
            twin = compress(data, coding)
            if len(twin) <= len(data) * (1 - settings.min_saving):
                _write(out, path + TWIN_SUFFIX[coding], twin)
                encodings[coding] = len(twin)
    width = height = None
    variants: tuple[Variant, ...] = ()
    if posixpath.splitext(name)[1].lower() in _RASTER_FORMATS:
        width, height, variants = _variants(name, data, settings, out)
    return AssetEntry(
        name, path, digest, len(data), content_type(name), encodings, width, height, variants
    )


def build_assets(source: Path, out: Path, settings: PipelineSettings | None = None) -> Manifest:
    """Process every file under ``source`` into ``out``; write and return the manifest
    (``out/manifest.json``).

    The build goes to a sibling folder that replaces ``out`` only when it is complete, so
    a failed build leaves the previous one in place. ``out`` must be new, empty or a
    previous output (it has a ``manifest.json``): nothing else is ever deleted.
    """
    settings = settings or PipelineSettings()
    if not source.is_dir():
        raise FileNotFoundError(f"asset folder {source} does not exist")
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise ValueError("the output folder must not be inside the source folder")
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise ValueError(f"{out} is not empty and holds no manifest.json: choose a new folder")
    building = out.with_name(f".{out.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        done: dict[str, AssetEntry] = {}
        for name, path in sorted(_sources(source), key=lambda f: f[0].endswith(".css")):
            data = path.read_bytes()  # CSS last, so its url()s can name hashed files
            if name.endswith(".css"):
                data = _rewrite_css(name, data.decode("utf-8"), done).encode("utf-8")
            done[name] = _entry(name, data, settings, building)
        manifest = Manifest(done)
        manifest.save(building / "manifest.json")
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    building.rename(out)
    return manifest
