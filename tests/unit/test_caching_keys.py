"""Cache keys: equal for equivalent calls, different otherwise, stable across processes."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.patterns.caching import KeyBuilder


def profile(user_id: int, fields: tuple[str, ...] = ("name",), *, fresh: bool = False) -> None:
    """Stand-in for a cached function."""


KEYS = KeyBuilder(profile, namespace="app", version=3)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def test_defaults_and_keyword_order_do_not_change_the_key() -> None:
    same = {
        KEYS((7,), {}),
        KEYS((7, ("name",)), {}),
        KEYS((7,), {"fields": ("name",)}),
        KEYS((), {"fresh": False, "user_id": 7}),
        KEYS((7,), {"fresh": False, "fields": ["name"]}),
    }
    assert len(same) == 1
    assert KEYS((8,), {}) not in same
    assert KEYS((7,), {"fresh": True}) not in same


def test_prefix_names_namespace_version_and_function() -> None:
    key = KEYS((7,), {})
    assert key.startswith(f"app:v3:{profile.__module__}.profile:")
    assert len(key.rsplit(":", 1)[1]) == 32  # blake2b, 16 bytes, hex


@given(values, values)
def test_keys_equal_exactly_when_the_arguments_are_equal(a: Any, b: Any) -> None:
    def f(x: Any) -> None: ...

    keys = KeyBuilder(f)
    same_json = _canonical(a) == _canonical(b)
    assert (keys((a,), {}) == keys((b,), {})) == same_json


def _canonical(value: Any) -> Any:
    """Equality the key promises: types kept apart (1, 1.0 and True differ), dict order
    ignored, lists compared in order."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(_canonical(v) for v in value))
    if isinstance(value, float) and value == 0.0:
        return (float, str(value))
    return (type(value), value)


def test_sets_are_ordered_and_unsupported_arguments_say_what_to_do() -> None:
    def f(x: Any) -> None: ...

    keys = KeyBuilder(f)
    assert keys(({3, 1, 2},), {}) == keys(({2, 3, 1},), {})
    with pytest.raises(TypeError, match="pass key= or ignore="):
        keys((object(),), {})


def test_ignore_names_must_exist() -> None:
    with pytest.raises(ValueError, match="ignore="):
        KeyBuilder(profile, ignore=("nope",))


def test_same_key_in_another_process() -> None:
    code = (
        "from lab.patterns.caching import KeyBuilder\n"
        "def profile(user_id, fields=('name',), *, fresh=False): pass\n"
        "profile.__module__ = 'test_caching_keys'\n"
        "print(KeyBuilder(profile, namespace='app', version=3)((7,), {'fresh': False}))\n"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123"})  # fmt: skip
    here = KEYS((7,), {})
    assert other.stdout.strip().rsplit(":", 1)[1] == here.rsplit(":", 1)[1]
