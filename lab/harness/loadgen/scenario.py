"""``lab loadtest --scenario file.py``: *what* each request is, decided in Python; *when*
it is sent stays the arrival schedule's (open loop).

The file defines ``next_request(user)``, which returns a :class:`Request`: method, path,
headers, body, and a name it is reported under. ``user`` is one of ``--users`` virtual
users, taken in turn: arrival k goes to user k mod N. Each has an ``id``, a seeded
``rng`` of its own, a ``state`` dict the scenario may keep anything in, and ``last``: the
:class:`Answer` to its latest request that has been answered (``None`` before), so a
scenario can carry a cursor or a token from one response to the next request. In the
open loop a user's next arrival may come before its previous answer: ``last`` is then
the answer before that.

An exception raised by the scenario fails that request (error kind ``scenario error``);
the first one is kept, with its file and line, for the command to show.
"""

from __future__ import annotations

import importlib.util
import random
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from lab.errors import ConfigError

__all__ = ["Answer", "Request", "Scenario", "VirtualUser"]


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    name: str = ""  # reported under this name; "" reports it under its method
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def label(self) -> str:
        return self.name or self.method


@dataclass(frozen=True)
class Answer:
    name: str
    status: int
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class VirtualUser:
    id: int
    rng: random.Random
    state: dict[str, Any] = field(default_factory=dict)
    last: Answer | None = None


class Scenario:
    """A loaded scenario file and its virtual users."""

    def __init__(self, path: str, users: int = 100, seed: int = 0, first_id: int = 0) -> None:
        self.path = path
        self.next_request = _load(path)
        if users < 1:
            raise ConfigError(f"--users must be at least 1, not {users}")
        self.users = [VirtualUser(first_id + i, random.Random(f"{seed}:{first_id + i}"))
                      for i in range(users)]  # fmt: skip
        self._turn = 0
        self.first_error: str | None = None

    def next(self) -> tuple[VirtualUser, Request]:
        """The next virtual user in turn, and its request; raises what the scenario raised
        (after keeping the first such error)."""
        user = self.users[self._turn % len(self.users)]
        self._turn += 1
        try:
            request = self.next_request(user)
            if not isinstance(request, Request):
                raise TypeError(f"next_request returned {type(request).__name__}, not Request")
            if not request.path.startswith("/"):
                raise ValueError(f"path {request.path!r} does not start with /")
        except Exception as error:
            if self.first_error is None:
                self.first_error = _where(error, self.path)
            raise
        return user, request


def _load(path: str) -> Callable[[VirtualUser], Request]:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--scenario {path}: no such file")
    spec = importlib.util.spec_from_file_location(f"lab_scenario_{file.stem}", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise ConfigError(f"--scenario {path} did not load: {_where(error, path)}") from None
    found = getattr(module, "next_request", None)
    if not callable(found):
        raise ConfigError(f"--scenario {path} defines no next_request(user) function")
    return found  # type: ignore[no-any-return]


def _where(error: BaseException, path: str) -> str:
    """``KeyError: 'next' (scenario.py, line 12)``: the deepest frame in the file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
    line = getattr(error, "lineno", None) or (frames[-1].lineno if frames else None)
    where = f" ({Path(path).name}, line {line})" if line else ""
    return f"{type(error).__name__}: {error}{where}"
