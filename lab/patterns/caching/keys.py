"""Cache keys that are the same in every process and Python version, for equal calls.

The key is ``namespace:vN:module.qualname:`` followed by the blake2b hash of the bound
arguments (defaults applied, keyword order irrelevant) encoded as canonical JSON by
orjson. ``repr()`` is not used: it differs between runs for sets and for objects that
print their address. Sets are sorted; lists and tuples encode alike. An argument orjson
cannot encode raises ``TypeError`` telling the caller to pass ``key=`` or ``ignore=``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from hashlib import blake2b
from typing import Any

import orjson
from orjson import dumps

__all__ = ["KeyBuilder"]

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_PLAIN = inspect.Parameter.POSITIONAL_OR_KEYWORD
_BLAKE2B_16 = blake2b(digest_size=16)


def _encode_other(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=lambda item: orjson.dumps(item, option=_OPTIONS))
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


class KeyBuilder:
    """``KeyBuilder(func, namespace="app", version=1)(args, kwargs) -> str``."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        namespace: str = "lab",
        version: int = 1,
        ignore: Collection[str] = (),
    ) -> None:
        self.signature = inspect.signature(func)
        params = list(self.signature.parameters.values())
        unknown = set(ignore) - {p.name for p in params}
        if unknown:
            raise ValueError(f"ignore= names no parameter of {func.__qualname__}: {unknown}")
        self.ignore = frozenset(ignore)
        self.prefix = f"{namespace}:v{version}:{func.__module__}.{func.__qualname__}:"
        # Fast path: only plain parameters, none ignored -> positional args need no binding.
        self._plain = not self.ignore and all(p.kind == _PLAIN for p in params)
        self._arity = len(params)

    def values(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Sequence[Any]:
        """The arguments that make up the key, in signature order, defaults applied."""
        if self._plain and not kwargs and len(args) == self._arity:
            return args
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return [value for name, value in bound.arguments.items() if name not in self.ignore]

    def __call__(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        try:
            if self._plain and not kwargs and len(args) == self._arity:  # the common call
                material = dumps(args, default=_encode_other, option=_OPTIONS)
            else:
                material = dumps(self.values(args, kwargs), default=_encode_other, option=_OPTIONS)
        except TypeError as error:  # orjson.JSONEncodeError is a TypeError
            raise TypeError(
                f"an argument of {self.prefix.rstrip(':')} cannot be part of a cache key "
                f"({error}); pass key= or ignore= to cached()"
            ) from None
        hasher = _BLAKE2B_16.copy()  # copying a fresh hasher beats building one per call
        hasher.update(material)
        return self.prefix + hasher.hexdigest()
