"""A lean HTTP/1.1 client on asyncio protocols: one request in flight per connection,
keep-alive, a request's bytes built once. It exists so that the load generator is
never the bottleneck (aiohttp's client costs several times more CPU per request).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from lab.errors import ConfigError, ProtocolError

__all__ = ["Connection", "HttpTarget", "ProtocolError", "build_request", "parse_target"]


@dataclass(frozen=True)
class HttpTarget:
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"


def parse_target(url: str) -> HttpTarget:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http:// URL with a host (https is not supported)")
    try:
        port = parts.port or 80
    except ValueError:
        raise ConfigError(f"{url!r} has a port that is not a number from 1 to 65535") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return HttpTarget(parts.hostname, port, path)


def build_request(
    target: HttpTarget, method: str = "GET", headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> bytes:  # fmt: skip
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host}:{target.port}"]
    given = {name.lower() for name in (headers or {})}
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    if "user-agent" not in given:
        lines.append("User-Agent: lab-loadtest")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False
        # Parse state of the response being read.
        self.status = 0
        self.head_done = False
        self.remaining = -1  # body bytes still expected; -1 while unknown
        self.chunked = False
        self.keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        body_until_close = self.head_done and self.remaining < 0 and not self.chunked
        if body_until_close and exc is None:
            self._finish()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionResetError("server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._parse()
        except ProtocolError as error:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(error)
            if self.transport is not None:
                self.transport.abort()

    def _parse(self) -> None:
        if not self.head_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[: end + 4]
            status_line = head[0].split(" ", 2)
            if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
                raise ProtocolError(f"bad status line {head[0]!r}")
            self.status = int(status_line[1])
            self.keep_alive = status_line[0] == "HTTP/1.1"
            self.remaining, self.chunked = -1, False
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    self.remaining = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    self.chunked = True
                elif name == "connection":
                    self.keep_alive = value.strip().lower() != "close"
            self.head_done = True
        if self.status < 200 or self.status in (204, 304):
            self._finish()
        elif self.chunked:
            self._parse_chunks()
        elif self.remaining >= 0 and len(self.buffer) >= self.remaining:
            del self.buffer[: self.remaining]
            self._finish()
        # No length and not chunked: the body ends when the server closes.

    def _parse_chunks(self) -> None:
        while True:
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return
            size = int(bytes(self.buffer[:line_end]).split(b";")[0], 16)
            if size == 0:
                trailer_end = self.buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return
                del self.buffer[: trailer_end + 4]
                self._finish()
                return
            if len(self.buffer) < line_end + 2 + size + 2:
                return
            del self.buffer[: line_end + 2 + size + 2]

    def _finish(self) -> None:
        self.head_done = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.status)
        if not self.keep_alive and self.transport is not None:
            self.transport.close()


class Connection:
    """One keep-alive connection; ``request`` sends prebuilt bytes, returns the status."""

    def __init__(self, target: HttpTarget) -> None:
        self.target = target
        self._protocol: _Protocol | None = None

    @property
    def usable(self) -> bool:
        return self._protocol is not None and not self._protocol.closed

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Protocol, self.target.host, self.target.port)
        self._protocol = protocol

    async def request(self, raw: bytes) -> int:
        """Send one request and wait for its whole response; reconnect if needed."""
        if not self.usable:
            await self.connect()
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        protocol.waiter = waiter
        protocol.transport.write(raw)
        try:
            return await waiter
        finally:
            protocol.waiter = None

    def abort(self) -> None:
        """Drop the connection (after a timeout its next bytes would belong to a dead request)."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abort()
        self._protocol = None

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
