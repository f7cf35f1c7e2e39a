"""The static handler over real HTTP on 127.0.0.1: mounted in aiohttp, and as an ASGI app
mounted in FastAPI on uvicorn. Raw requests check what a client library would normalize."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from lab.patterns.cdn import (
    IMMUTABLE,
    Manifest,
    StaticASGIApp,
    StaticFiles,
    add_static_route,
    build_assets,
)
from tests.cdn_helpers import make_assets


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    root = tmp_path_factory.mktemp("served")
    manifest = build_assets(make_assets(root / "src"), root / "out")
    (root / "secret.txt").write_text("must not be served")
    return root / "out", manifest


@contextlib.asynccontextmanager
async def _aiohttp(files: StaticFiles) -> AsyncIterator[str]:
    app = web.Application()
    add_static_route(app, "/static", files)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def _fastapi(files: StaticFiles) -> AsyncIterator[str]:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    app.mount("/static", StaticASGIApp(files))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


SERVERS = {"aiohttp": _aiohttp, "fastapi": _fastapi}


async def _raw(base: str, target: str) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("stack", list(SERVERS))
async def test_headers_negotiation_and_304_over_http(
    stack: str, built: tuple[Path, Manifest]
) -> None:
    out, manifest = built
    css = manifest.entries["css/site.css"].path
    async with (
        SERVERS[stack](StaticFiles(out, memory_limit=0)) as base,
        aiohttp.ClientSession(auto_decompress=False) as session,
    ):
        url = f"{base}/static/{css}"
        async with session.get(url, headers={"Accept-Encoding": "br"}) as answer:
            body = await answer.read()
            assert answer.status == 200
            assert answer.headers["Content-Encoding"] == "br"
            assert answer.headers["Cache-Control"] == IMMUTABLE
            assert answer.headers["Vary"] == "Accept-Encoding"
            assert body == (out / (css + ".br")).read_bytes()
            etag = answer.headers["ETag"]
        headers = {"Accept-Encoding": "br", "If-None-Match": etag}
        async with session.get(url, headers=headers) as answer:
            assert answer.status == 304 and await answer.read() == b""
        async with session.get(url, headers={"Range": "bytes=0-99"}) as answer:
            assert answer.status == 206
            assert await answer.read() == (out / css).read_bytes()[:100]
        async with session.head(url, headers={"Accept-Encoding": "identity"}) as answer:
            assert answer.status == 200 and await answer.read() == b""
            assert int(answer.headers["Content-Length"]) == (out / css).stat().st_size
        photo = manifest.entries["img/photo-0.jpg"].path
        accept = {"Accept": "image/webp,*/*"}
        async with session.get(f"{base}/static/{photo}", headers=accept) as answer:
            assert answer.headers["Content-Type"] == "image/webp"
            assert answer.headers["Vary"] == "Accept"
            assert (await answer.read())[8:12] == b"WEBP"


@pytest.mark.parametrize("stack", list(SERVERS))
@pytest.mark.parametrize(
    "target",
    ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
     "/static/%2e%2e%2fsecret.txt", "/static//etc/passwd", "/static/img/..%5c..%5csecret.txt",
     "/static/manifest.json", "/static/nothing-here.css"],
)  # fmt: skip
async def test_traversal_is_refused_over_raw_http(
    stack: str, target: str, built: tuple[Path, Manifest]
) -> None:
    async with SERVERS[stack](StaticFiles(built[0])) as base:
        status, body = await _raw(base, target)
    assert status == 404
    assert b"must not be served" not in body and b"root:" not in body


async def test_lab_serve_static_serves_the_demo_behind_a_cdn_base_url() -> None:
    import sys

    from lab.harness.url_process import url_process

    argv = [sys.executable, "-m", "lab.cli", "serve-static", "--port", "0", "--images", "3",
            "--variant", "all", "--cdn-base-url", "https://cdn.example.com/assets/"]  # fmt: skip
    with url_process(argv, "lab serve-static", stop_timeout_s=30) as url:
        async with aiohttp.ClientSession() as session, session.get(url) as answer:
            page = await answer.text()
            assert answer.status == 200 and answer.headers["Content-Encoding"] == "br"
    assert page.count('loading="lazy"') == 2  # photos 2 and 3; the first is eager
    assert 'href="https://cdn.example.com/assets/css/site.' in page
    assert "<picture>" in page
