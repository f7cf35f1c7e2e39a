"""The HTTP rules a static handler decides by, as pure functions over header values:
``Accept-Encoding`` and ``Accept`` negotiation, ``If-None-Match`` and ``Range``.

They follow RFC 9110: a coding or type is acceptable when its q-value is above zero;
``If-None-Match`` compares weakly; a ``Range`` the server does not support (several
ranges, another unit, bad syntax) is ignored and the whole representation is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from lab.errors import RangeNotSatisfiable

__all__ = [
    "ByteRange",
    "RangeNotSatisfiable",
    "choose_encoding",
    "choose_image_format",
    "etag_matches",
    "parse_qlist",
    "parse_range",
]


def parse_qlist(header: str | None) -> dict[str, float]:
    """``"br;q=1.0, gzip;q=0.5"`` -> ``{"br": 1.0, "gzip": 0.5}``; names lowercased.

    An element with an unreadable q-value is left out, as RFC 9110 allows.
    """
    found: dict[str, float] = {}
    for element in (header or "").split(","):
        name, _, params = element.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            found[name] = max(q, found.get(name, 0.0))
    return found


def choose_encoding(accept_encoding: str | None, available: Sequence[str]) -> str:
    """The content coding to send: the acceptable one with the highest q among
    ``available`` (ties go to the order of ``available``), else ``"identity"``.

    A compressed twin is preferred to identity whenever the client accepts it, as
    nginx's ``gzip_static`` and WhiteNoise do.
    """
    weights = parse_qlist(accept_encoding)
    wildcard = weights.get("*", 0.0)
    best, best_q = "identity", 0.0
    for coding in available:
        q = weights.get(coding, wildcard)
        if q > best_q:
            best, best_q = coding, q
    return best


def choose_image_format(accept: str | None, available: Sequence[str]) -> str | None:
    """The first of ``available`` (e.g. ``("avif", "webp")``) that ``Accept`` names
    explicitly as ``image/<format>`` with q above zero; ``None`` keeps the original.

    ``image/*`` and ``*/*`` do not count: every browser sends them, including those
    that cannot decode AVIF or WebP.
    """
    weights = parse_qlist(accept)
    for fmt in available:
        if weights.get(f"image/{fmt}", 0.0) > 0:
            return fmt
    return None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison of ``If-None-Match`` against the current ``etag``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class ByteRange(NamedTuple):
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One byte range of a ``size``-byte body, or ``None`` to send it whole."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if first == "":
        if last == "":
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(end, size - 1))
