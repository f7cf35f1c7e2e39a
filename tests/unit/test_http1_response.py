"""The load generator's HTTP/1.1 response parser: the framing rules of RFC 9112, the
defects a user met against ordinary servers, and a differential test against h11."""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.errors import ProtocolError
from lab.harness.loadgen.response import Response, ResponseParser


def _parse(method: str, *chunks: bytes) -> Response | None:
    parser = ResponseParser(keep_body=True)
    parser.expect(method)
    found = None
    for chunk in chunks:
        found = parser.feed(chunk) or found
    return found


def test_a_head_response_has_no_body_whatever_its_content_length() -> None:
    response = _parse("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
    assert response == Response(200, keep_alive=True, body_bytes=0, body=b"")


def test_interim_responses_are_skipped_and_the_final_one_counts() -> None:
    raw = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
           b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")  # fmt: skip
    response = _parse("POST", raw)
    assert response is not None and response.status == 201 and response.body == b"ok"


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_and_not_modified_have_no_body(status: int) -> None:
    parser = ResponseParser()
    parser.expect("GET")
    head = f"HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n".encode()
    first = parser.feed(head)
    parser.expect("GET")  # the next response on the same connection parses from scratch
    second = parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert first is not None and first.status == status and first.body_bytes == 0
    assert second is not None and second.status == 200


def test_chunks_with_extensions_and_trailers() -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
           b"4;name=value\r\nwiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n")  # fmt: skip
    response = _parse("GET", raw)
    assert response is not None and response.body == b"wikipedia"


def test_transfer_encoding_overrides_content_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    response = _parse("GET", raw)
    assert response is not None and response.body == b""


def test_connection_close_and_a_body_that_ends_with_the_connection() -> None:
    parser = ResponseParser(keep_body=True)
    parser.expect("GET")
    assert parser.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil ") is None
    assert parser.feed(b"the end") is None
    response = parser.closed()
    assert response == Response(200, keep_alive=False, body_bytes=13, body=b"until the end")


def test_http_1_0_closes_unless_asked_to_keep_alive() -> None:
    plain = _parse("GET", b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    kept = _parse("GET", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    assert plain is not None and not plain.keep_alive
    assert kept is not None and kept.keep_alive


def test_a_close_in_the_middle_of_a_declared_body_is_no_response() -> None:
    parser = ResponseParser()
    parser.expect("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    assert parser.closed() is None


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 abc Nope\r\n\r\n",  # a status code that is not a number
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    ],
)
def test_malformed_responses_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        _parse("GET", raw)


def test_a_head_that_never_ends_is_refused_once_over_64_kib() -> None:
    parser = ResponseParser()
    parser.expect("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProtocolError):
        for _ in range(100):
            parser.feed(b"X-Filler: " + b"a" * 1000 + b"\r\n")


# --- differential: the same bytes through h11 -------------------------------------------

_TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~",
                 min_size=1, max_size=12)  # fmt: skip
_VALUE = st.text("abc xyz=;,/:0129ABC", max_size=20).map(str.strip)
_RESERVED = {"content-length", "transfer-encoding", "connection", "upgrade"}


@st.composite
def _cycle(draw: st.DrawFn, last: bool) -> tuple[str, bytes, list[bytes]]:
    """One request method, and the bytes of its response (interim ones first)."""
    method = draw(st.sampled_from(["GET", "HEAD", "POST"]))
    status = draw(st.sampled_from([200, 201, 204, 301, 304, 404, 429, 500, 503]))
    framing = draw(st.sampled_from(["length", "chunked", "close"] if last else
                                   ["length", "chunked"]))  # fmt: skip
    body = draw(st.binary(max_size=300))
    extra = draw(st.lists(st.tuples(_TOKEN, _VALUE), max_size=4))
    extra = [(name, value) for name, value in extra if name.lower() not in _RESERVED]
    out = b""
    for interim in draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)):
        out += f"HTTP/1.1 {interim} Info\r\n".encode() + _header_lines(extra) + b"\r\n"
    version = "1.0" if framing == "close" and draw(st.booleans()) else "1.1"
    head = [f"HTTP/{version} {status} {draw(st.sampled_from(['OK', 'Some Reason', '']))}"]
    no_body = method == "HEAD" or status in (204, 304)
    if framing == "length":
        head.append(f"{draw(st.sampled_from(['Content-Length', 'content-length']))}: {len(body)}")
        payload = b"" if no_body else body
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        payload = b"" if no_body else _chunked(body, draw(st.integers(1, 64)), draw(st.booleans()))
    else:
        head.append("Connection: close")
        payload = b"" if no_body else body
    raw = out + "\r\n".join(head).encode() + b"\r\n" + _header_lines(extra) + b"\r\n" + payload
    return method, raw, [body]


def _header_lines(headers: list[tuple[str, str]]) -> bytes:
    return b"".join(f"{name}: {value}\r\n".encode() for name, value in headers)


def _chunked(body: bytes, size: int, trailers: bool) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n" + (b"Trailer-Name: x\r\n" if trailers else b"") + b"\r\n"


def _h11_responses(cycles: list[tuple[str, bytes]], stream: bytes) -> list[tuple[int, bytes, bool]]:
    conn = h11.Connection(h11.CLIENT)
    conn.receive_data(stream)
    conn.receive_data(b"")  # the server closes after the last response
    found = []
    for method, _ in cycles:
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "h")]))
        conn.send(h11.EndOfMessage())
        status, body = 0, b""
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
        found.append((status, body, conn.their_state is h11.DONE))
        if conn.their_state is h11.DONE:
            conn.start_next_cycle()
    return found


def _ours(cycles: list[tuple[str, bytes]], pieces: list[bytes]) -> list[tuple[int, bytes, bool]]:
    parser = ResponseParser(keep_body=True)
    found: list[tuple[int, bytes, bool]] = []
    pending = list(pieces)

    def take(response: Response | None) -> None:
        if response is not None:
            found.append((response.status, response.body or b"", response.keep_alive))
            if len(found) < len(cycles):
                parser.expect(cycles[len(found)][0])
                take(parser.feed(b""))  # bytes of the next response already read

    parser.expect(cycles[0][0])
    while pending and len(found) < len(cycles):
        take(parser.feed(pending.pop(0)))
    if len(found) < len(cycles):
        take(parser.closed())
    return found


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_parser_agrees_with_h11_on_any_split_of_the_bytes(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 3))
    cycles = [data.draw(_cycle(last=index == count - 1)) for index in range(count)]
    stream = b"".join(raw for _, raw, _ in cycles)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    methods = [(method, raw) for method, raw, _ in cycles]
    assert _ours(methods, pieces) == _h11_responses(methods, stream)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200), method=st.sampled_from(["GET", "HEAD"]))
def test_any_bytes_give_a_response_none_or_a_protocol_error(raw: bytes, method: str) -> None:
    parser = ResponseParser()
    parser.expect(method)
    try:
        parser.feed(b"HTTP/1.1 200 OK\r\n" + raw)
        parser.closed()
    except ProtocolError:
        pass
