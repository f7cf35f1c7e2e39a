"""The HTTP/1.1 response parser, fed bytes directly (no socket)."""

from __future__ import annotations

import asyncio

import pytest

from lab.errors import ConfigError
from lab.harness.loadgen.http1 import (
    ProtocolError,
    Response,
    _Protocol,
    build_request,
    parse_target,
)


def _feed(*chunks: bytes) -> asyncio.Future[Response]:
    loop = asyncio.get_running_loop()
    protocol = _Protocol()
    protocol.waiter = loop.create_future()
    for chunk in chunks:
        protocol.data_received(chunk)
    return protocol.waiter


async def test_content_length_split_across_reads() -> None:
    waiter = _feed(b"HTTP/1.1 200 OK\r\nContent-", b"Length: 5\r\n\r\nhel", b"lo")
    assert (await waiter).status == 200


async def test_chunked_body() -> None:
    waiter = _feed(b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                   b"0\r\n\r\n")  # fmt: skip
    assert (await waiter).status == 503


async def test_incomplete_body_does_not_finish() -> None:
    waiter = _feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    assert not waiter.done()
    waiter.cancel()


async def test_no_content_status_finishes_without_body() -> None:
    assert (await _feed(b"HTTP/1.1 204 No Content\r\n\r\n")).status == 204


async def test_garbage_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        await _feed(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_request_bytes() -> None:
    target = parse_target("http://127.0.0.1:8080/api?x=1")
    raw = build_request(target, "POST", {"X-Trace": "1"}, b'{"a": 1}')
    head, body = raw.split(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api?x=1 HTTP/1.1"
    assert "Host: 127.0.0.1:8080" in lines and "X-Trace: 1" in lines
    assert "Content-Length: 8" in lines and body == b'{"a": 1}'


@pytest.mark.parametrize(
    "url", ["ftp://example.org/", "127.0.0.1:80", "http://:80/", "http://h:x/"]
)
def test_bad_targets(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_target(url)
