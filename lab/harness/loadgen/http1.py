"""A lean HTTP/1.1 client on asyncio protocols: one request in flight per connection,
keep-alive, a request's bytes built once, plain or over TLS. It exists so that the load generator is
never the bottleneck (aiohttp's client costs several times more CPU per request).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from lab.errors import ConfigError, ProtocolError
from lab.harness.loadgen.response import Response, ResponseParser

__all__ = [
    "Connection", "HttpTarget", "ProtocolError", "Response", "build_request", "parse_target",
    "tls_context",
]  # fmt: skip


@dataclass(frozen=True)
class HttpTarget:
    host: str
    port: int
    path: str
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def parse_target(url: str) -> HttpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http:// or https:// URL with a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError(f"{url!r} has a port that is not a number from 1 to 65535") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return HttpTarget(parts.hostname, port, path, parts.scheme)


def tls_context(ca_file: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """The client's TLS settings: the system's trusted CAs (or ``ca_file``'s), with the
    certificate and host name checked, unless ``insecure``."""
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"--ca-file {ca_file}: {getattr(error, 'strerror', None) or error}"
                          ) from None  # fmt: skip
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


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
    """Feeds a connection's bytes to a :class:`ResponseParser`; the waiter gets the
    final response, or the error that ended the connection."""

    def __init__(self, keep_body: bool = False) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser(keep_body=keep_body)
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.lost.done():
            self.lost.set_result(None)
        response = self.parser.closed() if exc is None else None
        if response is not None:
            self._resolve(response)
        elif self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionResetError("server closed the connection"))

    def data_received(self, data: bytes) -> None:
        try:
            response = self.parser.feed(data)
        except ProtocolError as error:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(error)
            self.closed = True
            if self.transport is not None:
                self.transport.abort()
            return
        if response is not None:
            self._resolve(response)

    def _resolve(self, response: Response) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(response)
        if not response.keep_alive:
            self.closed = True
            if self.transport is not None:
                self.transport.close()


class Connection:
    """One keep-alive connection; ``request`` sends prebuilt bytes, returns the response."""

    def __init__(self, target: HttpTarget, keep_body: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:  # fmt: skip
        self.target = target
        self.keep_body = keep_body
        self._closing: list[_Protocol] = []  # closed by us or the server, maybe not yet gone
        self.tls = tls if tls is not None or not target.tls else tls_context()
        self._protocol: _Protocol | None = None

    @property
    def usable(self) -> bool:
        return self._protocol is not None and not self._protocol.closed

    async def connect(self) -> None:
        self._forget()
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: _Protocol(self.keep_body), self.target.host, self.target.port, ssl=self.tls
        )
        self._protocol = protocol

    async def request(self, raw: bytes, method: str = "GET") -> Response:
        """Send one request and wait for its final response; reconnect if needed."""
        if not self.usable:
            await self.connect()
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        protocol.waiter = waiter
        protocol.parser.expect(method)
        protocol.transport.write(raw)
        try:
            return await waiter
        finally:
            protocol.waiter = None

    def abort(self) -> None:
        """Drop the connection (after a timeout its next bytes would belong to a dead request)."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abort()
        self._forget()

    def _forget(self) -> None:
        if self._protocol is not None and not self._protocol.lost.done():
            self._closing.append(self._protocol)
        self._protocol = None

    async def aclose(self, wait_s: float = 1.0) -> None:
        """Close, and wait (at most ``wait_s``, then abort) until every connection this
        one opened is gone: a TLS close waits for the peer's close_notify, and an event
        loop closed before that fails with its transports still open."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._forget()
        going, self._closing = self._closing, []
        try:
            pending = [protocol.lost for protocol in going if not protocol.lost.done()]
            if pending:
                await asyncio.wait(pending, timeout=wait_s)
        finally:
            for protocol in going:
                if not protocol.lost.done() and protocol.transport is not None:
                    protocol.transport.abort()
