"""How cached values become bytes, and the small header every entry carries.

orjson is the default; msgpack is there for compact binary values; pickle only when a
caller asks for it by name, since unpickling what another process wrote runs its code.
Every stored entry is ``header + payload``. The header holds when the entry expires and
how long it took to compute (what early refresh needs), so a present entry, even one
holding ``None``, is never mistaken for a miss.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any, Protocol

import msgpack  # type: ignore[import-untyped]
import orjson

from lab.errors import ConfigError

__all__ = [
    "Entry",
    "MsgpackSerializer",
    "OrjsonSerializer",
    "PickleSerializer",
    "Serializer",
    "pack_entry",
    "serializer_named",
    "unpack_entry",
]

_HEADER = struct.Struct("<Bdf")  # format version, expires_at (clock seconds), compute seconds
_VERSION = 1
_HEADER_SIZE = _HEADER.size
_unpack_header = _HEADER.unpack_from


class Serializer(Protocol):
    name: str

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class OrjsonSerializer:
    """JSON through orjson: dicts, lists, str, numbers, bool, None, dataclasses, datetimes."""

    name = "orjson"
    dumps = staticmethod(orjson.dumps)
    loads = staticmethod(orjson.loads)


class MsgpackSerializer:
    """MessagePack: compact, and keeps bytes as bytes (JSON cannot)."""

    name = "msgpack"

    def dumps(self, value: Any) -> bytes:
        return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]

    def loads(self, data: bytes) -> Any:
        return msgpack.unpackb(data, raw=False)


class PickleSerializer:
    """Any picklable object. Only safe when every writer to the cache is trusted."""

    name = "pickle"

    def dumps(self, value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)  # opt-in only: see the class docstring


_BY_NAME: dict[str, type[Serializer]] = {
    "orjson": OrjsonSerializer,
    "msgpack": MsgpackSerializer,
    "pickle": PickleSerializer,
}


def serializer_named(name: str) -> Serializer:
    try:
        return _BY_NAME[name]()
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise ConfigError(f"unknown serializer {name!r}; choose one of {known}") from None


#: (expires_at, compute_s, payload): a plain tuple, since a hit builds one every time.
Entry = tuple[float, float, bytes]


def pack_entry(payload: bytes, expires_at: float, compute_s: float) -> bytes:
    return _HEADER.pack(_VERSION, expires_at, compute_s) + payload


def unpack_entry(data: bytes) -> Entry:
    """The entry in ``data``; ``ValueError`` if it was not written by this format."""
    if len(data) < _HEADER.size or data[0] != _VERSION:
        raise ValueError("not a lab cache entry (foreign or older format)")
    _, expires_at, compute_s = _unpack_header(data)
    return expires_at, compute_s, data[_HEADER_SIZE:]
