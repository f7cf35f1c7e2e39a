"""The static handler's decisions, apart from any web framework.

:class:`StaticFiles` reads a folder once (as WhiteNoise does) into a table of what can be
served: each file, its compressed twins and, from the manifest, its image variants. A
request is answered from that table only, so a path that is not in it (``..``, an
absolute path, anything encoded) cannot reach the disk. Small files are held in memory.

* fingerprinted names (in the manifest, carrying their hash):
  ``Cache-Control: public, max-age=31536000, immutable``;
* everything else: ``Cache-Control: no-cache`` and a strong ``ETag``, so a browser
  revalidates and gets ``304 Not Modified`` while nothing changed;
* ``Accept-Encoding`` picks a ``br`` or ``gzip`` twin, ``Accept`` picks an AVIF or WebP
  variant of a JPEG or PNG; ``Vary`` names each header the choice depended on, so a CDN
  keys its cache on it;
* a single ``Range`` is served uncompressed (206, or 416 past the end); several
  ranges, or an ``If-Range`` that no longer matches, get the whole file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lab.patterns.cdn.manifest import TWIN_SUFFIX, Manifest
from lab.patterns.cdn.negotiation import (
    ByteRange,
    RangeNotSatisfiable,
    choose_encoding,
    choose_image_format,
    etag_matches,
    parse_range,
)
from lab.patterns.cdn.pipeline import content_type

__all__ = ["IMMUTABLE", "REVALIDATE", "StaticFiles", "StaticResponse"]

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_TEXT = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class _Representation:
    file: Path
    size: int
    etag: str
    content_type: str
    encoding: str | None
    body: bytes | None  # held in memory when small


@dataclass(frozen=True)
class _Asset:
    identity: _Representation
    encoded: dict[str, _Representation]  # coding -> twin, server preference order
    images: dict[str, _Representation]  # format -> full-width variant, best first
    cache_control: str

    def vary(self) -> str | None:
        names = (["Accept"] if self.images else []) + (["Accept-Encoding"] if self.encoded else [])
        return ", ".join(names) or None


@dataclass(frozen=True)
class StaticResponse:
    """What to send: ``body`` bytes, or ``length`` bytes of ``file`` from ``offset``."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    file: Path | None = None
    offset: int = 0
    length: int = 0


def _type_header(kind: str) -> str:
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXT) else kind


def _representation(
    file: Path, tag: str, encoding: str | None, kind: str, memory_limit: int
) -> _Representation:
    size = file.stat().st_size
    body = file.read_bytes() if size <= memory_limit else None
    return _Representation(file, size, f'"{tag}"', _type_header(kind), encoding, body)


class StaticFiles:
    """Everything under ``root`` as a table of servable assets.

    ``manifest`` (default: ``root/manifest.json`` if present) marks the fingerprinted
    names and links each image to its variants. Call :meth:`refresh` after the folder
    changes.
    """

    def __init__(
        self,
        root: Path,
        manifest: Manifest | None = None,
        *,
        memory_limit: int = 1 << 20,
        encodings: tuple[str, ...] = ("br", "gzip"),
        negotiate_images: bool = True,
    ) -> None:
        self.root = root
        self.memory_limit = memory_limit
        self.encodings = encodings
        self.negotiate_images = negotiate_images
        if manifest is None and (root / "manifest.json").is_file():
            manifest = Manifest.load(root / "manifest.json")
        self.manifest = manifest
        self._assets: dict[str, _Asset] = {}
        self.refresh()

    def __contains__(self, path: str) -> bool:
        return path in self._assets

    def __len__(self) -> int:
        return len(self._assets)

    def refresh(self) -> None:
        written = self.manifest.by_path() if self.manifest else {}
        twins = set(TWIN_SUFFIX.values())
        assets: dict[str, _Asset] = {}
        for file in sorted(self.root.rglob("*")):
            rel = file.relative_to(self.root).as_posix()
            if not file.is_file() or file.suffix in twins or rel == "manifest.json":
                continue
            entry, variant = written.get(rel, (None, None))
            tag = (variant.path if variant else entry.digest) if entry else _file_tag(file)
            kind = content_type(rel)
            identity = _representation(file, tag, None, kind, self.memory_limit)
            encoded = {
                coding: _representation(twin, f"{tag}-{coding}", coding, kind, self.memory_limit)
                for coding in self.encodings
                if (twin := file.with_name(file.name + TWIN_SUFFIX[coding])).is_file()
            }
            images = {}
            if entry is not None and variant is None and self.negotiate_images:
                for fmt in ("avif", "webp"):
                    full = entry.full_width(fmt)
                    if full is not None and (self.root / full.path).is_file():
                        images[fmt] = _representation(
                            self.root / full.path,
                            full.path,
                            None,
                            f"image/{fmt}",
                            self.memory_limit,
                        )
            immutable = entry is not None and entry.fingerprinted  # variants are hashed too
            assets[rel] = _Asset(identity, encoded, images, IMMUTABLE if immutable else REVALIDATE)
        self._assets = assets

    def respond(self, method: str, path: str, headers: Mapping[str, str]) -> StaticResponse:
        """The answer to ``method path`` (``path`` relative to the mount, URL-decoded);
        ``headers`` must look names up case-insensitively (aiohttp's and a lowered dict
        both do)."""
        if method not in ("GET", "HEAD"):
            return StaticResponse(405, [("Allow", "GET, HEAD")])
        asset = self._assets.get(path) if _safe(path) else None
        if asset is None:
            return StaticResponse(
                404, [("Content-Type", "text/plain; charset=utf-8")], b"not found\n"
            )
        chosen = asset.identity
        fmt = choose_image_format(headers.get("accept"), tuple(asset.images))
        if fmt is not None:
            chosen = asset.images[fmt]
        wants_range = "range" in headers  # ranges are served uncompressed
        if not wants_range and asset.encoded:
            coding = choose_encoding(headers.get("accept-encoding"), tuple(asset.encoded))
            chosen = asset.encoded.get(coding, chosen)
        common = [("Cache-Control", asset.cache_control), ("ETag", chosen.etag)]
        if vary := asset.vary():
            common.append(("Vary", vary))
        if etag_matches(headers.get("if-none-match"), chosen.etag):
            return StaticResponse(304, common)
        common += [("Content-Type", chosen.content_type), ("Accept-Ranges", "bytes")]
        if chosen.encoding:
            common.append(("Content-Encoding", chosen.encoding))
        span = None
        if wants_range and _if_range_holds(headers.get("if-range"), chosen.etag):
            try:
                span = parse_range(headers.get("range"), chosen.size)
            except RangeNotSatisfiable:
                unsatisfied = ("Content-Range", f"bytes */{chosen.size}")
                return StaticResponse(416, [*common[:2], unsatisfied])
        whole = span or ByteRange(0, chosen.size - 1)
        length = max(whole.length, 0)
        status = 206 if span else 200
        if span:
            common.append(("Content-Range", span.content_range(chosen.size)))
        common.append(("Content-Length", str(length)))
        if method == "HEAD":
            return StaticResponse(status, common)
        if chosen.body is not None:
            return StaticResponse(status, common, chosen.body[whole.start : whole.start + length])
        return StaticResponse(status, common, file=chosen.file, offset=whole.start, length=length)


def _safe(path: str) -> bool:
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _if_range_holds(if_range: str | None, etag: str) -> bool:
    return if_range is None or if_range.strip() == etag


def _file_tag(file: Path) -> str:
    stat = file.stat()
    return f"{stat.st_size:x}-{stat.st_mtime_ns:x}"
