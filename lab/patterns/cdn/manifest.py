"""The asset manifest: logical names (``img/photo.jpg``) to what the pipeline wrote
(``img/photo.3f2a9c1b7d4e.jpg``, its compressed twins and its image variants).

It is JSON with sorted keys and no timestamps, so an unchanged folder gives a byte-for-byte
identical manifest, and a deploy can diff it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TWIN_SUFFIX", "AssetEntry", "Manifest", "Variant"]

#: Where a compressed twin lives: ``<path><suffix>``.
TWIN_SUFFIX = {"br": ".br", "gzip": ".gz"}


@dataclass(frozen=True)
class Variant:
    """One re-encoded or resized rendition of a raster image."""

    path: str
    format: str  # "avif", "webp", "jpeg" or "png"
    width: int
    height: int
    size: int


@dataclass(frozen=True)
class AssetEntry:
    name: str  # the logical path, relative to the source folder, with "/"
    path: str  # the path written, relative to the output folder
    digest: str  # content hash of what was written, hex
    size: int
    content_type: str
    encodings: dict[str, int] = field(default_factory=dict)  # coding -> twin size
    width: int | None = None
    height: int | None = None
    variants: tuple[Variant, ...] = ()

    @property
    def fingerprinted(self) -> bool:
        """The written name carries the content hash, so it can be cached forever."""
        return self.digest in Path(self.path).name

    def full_width(self, fmt: str) -> Variant | None:
        """The variant in ``fmt`` at the original width, if the pipeline kept one."""
        return next((v for v in self.variants if v.format == fmt and v.width == self.width), None)

    def srcset(self, fmt: str, base_url: str) -> str:
        """``url 480w, url 960w, ...`` for ``fmt`` (the original included when it matches)."""
        candidates = {v.width: v.path for v in self.variants if v.format == fmt}
        if self.width and fmt == self.content_type.removeprefix("image/"):
            candidates.setdefault(self.width, self.path)
        return ", ".join(f"{base_url}{path} {width}w" for width, path in sorted(candidates.items()))


@dataclass(frozen=True)
class Manifest:
    entries: dict[str, AssetEntry]

    def url(self, name: str, base_url: str = "/static/") -> str:
        return base_url + self.entries[name].path

    def by_path(self) -> dict[str, tuple[AssetEntry, Variant | None]]:
        """Every written path (originals and variants) to its entry."""
        found: dict[str, tuple[AssetEntry, Variant | None]] = {}
        for entry in self.entries.values():
            found[entry.path] = (entry, None)
            for variant in entry.variants:
                found[variant.path] = (entry, variant)
        return found

    def to_json(self) -> str:
        data = {name: asdict(entry) for name, entry in sorted(self.entries.items())}
        return json.dumps({"version": 1, "files": data}, indent=1, sort_keys=True) + "\n"

    def save(self, path: Path) -> Path:
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != 1:
            raise ValueError(f"{path}: not a version 1 asset manifest")
        return cls({name: _entry(raw) for name, raw in data["files"].items()})


def _entry(raw: dict[str, Any]) -> AssetEntry:
    variants = tuple(Variant(**v) for v in raw.pop("variants", ()))
    return AssetEntry(**raw, variants=variants)
