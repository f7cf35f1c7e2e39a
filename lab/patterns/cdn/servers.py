""":class:`StaticFiles` mounted in aiohttp and in any ASGI app (FastAPI, Starlette)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from aiohttp import web

from lab.patterns.cdn.static_files import StaticFiles, StaticResponse

__all__ = ["StaticASGIApp", "add_static_route"]

_CHUNK = 256 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _read(file: Path, offset: int, length: int) -> bytes:
    with file.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


async def _chunks(answer: StaticResponse) -> Any:
    """The file's bytes in chunks, read off the event loop."""
    assert answer.file is not None
    offset, left = answer.offset, answer.length
    while left > 0:
        chunk = await asyncio.to_thread(_read, answer.file, offset, min(left, _CHUNK))
        if not chunk:
            return
        offset += len(chunk)
        left -= len(chunk)
        yield chunk


def add_static_route(app: web.Application, prefix: str, files: StaticFiles) -> None:
    """Serve ``files`` under ``prefix`` (e.g. ``"/static"``) in an aiohttp app."""

    async def handler(request: web.Request) -> web.StreamResponse:
        answer = files.respond(request.method, request.match_info["path"], request.headers)
        if answer.file is None:
            return web.Response(status=answer.status, headers=answer.headers, body=answer.body)
        response = web.StreamResponse(status=answer.status, headers=answer.headers)
        await response.prepare(request)
        async for chunk in _chunks(answer):
            await response.write(chunk)
        await response.write_eof()
        return response

    app.router.add_route("*", prefix.rstrip("/") + "/{path:.*}", handler)


class StaticASGIApp:
    """An ASGI app answering every path below its mount from ``files``:
    ``app.mount("/static", StaticASGIApp(files))`` in FastAPI."""

    def __init__(self, files: StaticFiles) -> None:
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"StaticASGIApp serves http, not {scope['type']}")
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # Starlette's Mount keeps the prefix in path
            path = path[len(root) :]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        answer = self.files.respond(scope["method"], path.removeprefix("/"), headers)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        if answer.status != 304 and not any(k == b"content-length" for k, _ in raw):
            raw.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": raw})
        if answer.file is None:
            await send({"type": "http.response.body", "body": answer.body})
            return
        async for chunk in _chunks(answer):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
