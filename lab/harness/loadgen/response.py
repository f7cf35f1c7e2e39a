"""An incremental HTTP/1.1 response parser (RFC 9112), sans I/O: bytes in, responses out.

It frames responses the way RFC 9112 section 6.3 says:

* a response to HEAD, any 1xx, 204 and 304 have no body;
* 1xx responses other than 101 are interim: skipped, the final response follows;
* ``Transfer-Encoding`` ending in ``chunked`` means chunks (and trailers), and overrides
  ``Content-Length``; any other transfer coding means the body runs until the close;
* else a valid ``Content-Length`` (repeated values must agree) gives the length;
* else the body runs until the server closes the connection.

Anything malformed raises :class:`ProtocolError`: the request it answers failed, and the
connection is out of step and must be dropped. It never raises anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lab.errors import ProtocolError

__all__ = ["TOKEN", "Response", "ResponseParser"]

MAX_HEAD_BYTES = 64 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?:[ \t].*)?")
#: RFC 9110's token: a header name, a method.
TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?")
_DIGITS = re.compile(rb"[0-9]{1,18}")

_HEAD, _LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE = range(7)


@dataclass(frozen=True)
class Response:
    status: int
    keep_alive: bool
    body_bytes: int
    body: bytes | None  # kept only when the parser was asked to keep bodies


class ResponseParser:
    """Parses the responses of one connection, one request in flight at a time.

    Call :meth:`expect` when a request is sent, :meth:`feed` with each chunk received
    (it returns the final response once complete), and :meth:`closed` at end of stream.
    """

    def __init__(self, keep_body: bool = False) -> None:
        self.keep_body = keep_body
        self._buffer = bytearray()
        self._state = _HEAD
        self._head_request = False
        self._status = 0
        self._keep_alive = True
        self._remaining = 0
        self._body_bytes = 0
        self._body = bytearray()

    def expect(self, method: str) -> None:
        """A request with ``method`` was sent: its response is the next one."""
        self._head_request = method == "HEAD"

    def feed(self, data: bytes) -> Response | None:
        self._buffer += data
        return self._advance()

    def closed(self) -> Response | None:
        """The server closed the connection: the response it ends, if it was delimited by
        the close; ``None`` if the close cut a response short (or came between them)."""
        if self._state == _UNTIL_CLOSE:
            self._take(len(self._buffer))
            return self._complete()
        return None

    def _advance(self) -> Response | None:
        while True:
            state = self._state
            if state == _HEAD:
                if not self._read_head():
                    return None
                if self._state == _HEAD:
                    continue  # an interim 1xx response: the final one follows
                if self._state == _LENGTH and self._remaining == 0:
                    return self._complete()
            elif state == _LENGTH:
                taken = self._take(self._remaining)
                self._remaining -= taken
                if self._remaining:
                    return None
                return self._complete()
            elif state == _CHUNK_SIZE_LINE:
                line = self._line()
                if line is None:
                    return None
                size = _CHUNK_SIZE.fullmatch(line)
                if size is None:
                    raise ProtocolError(f"bad chunk size line {bytes(line[:40])!r}")
                self._remaining = int(size.group(1), 16)
                self._state = _CHUNK_DATA if self._remaining else _TRAILERS
            elif state == _CHUNK_DATA:
                self._remaining -= self._take(self._remaining)
                if self._remaining:
                    return None
                self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(self._buffer) < 2:
                    return None
                if self._buffer[:2] != b"\r\n":
                    raise ProtocolError("chunk data longer than its size")
                del self._buffer[:2]
                self._state = _CHUNK_SIZE_LINE
            elif state == _TRAILERS:
                line = self._line()
                if line is None:
                    return None
                if not line:
                    return self._complete()
            else:  # _UNTIL_CLOSE
                self._take(len(self._buffer))
                return None

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise ProtocolError("a chunk or trailer line over 64 KiB")
            return None
        line = bytes(self._buffer[:end]).removesuffix(b"\r")
        del self._buffer[: end + 1]
        return line

    def _take(self, most: int) -> int:
        taken = min(most, len(self._buffer))
        if self.keep_body:
            self._body += self._buffer[:taken]
        del self._buffer[:taken]
        self._body_bytes += taken
        return taken

    def _read_head(self) -> bool:
        found = _HEAD_END.search(self._buffer)
        if found is None:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise ProtocolError("a response head over 64 KiB")
            return False
        head = bytes(self._buffer[: found.start()])
        del self._buffer[: found.end()]
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        status_line = _STATUS_LINE.fullmatch(lines[0])
        if status_line is None:
            raise ProtocolError(f"bad status line {lines[0][:60]!r}")
        self._status = status = int(status_line.group(2))
        headers = _headers(lines[1:])
        if 100 <= status < 200:
            if status == 101:
                raise ProtocolError("101 Switching Protocols to a request that asked for none")
            return True  # interim: stay in _HEAD
        connection = b",".join(headers.get(b"connection", [])).lower()
        if status_line.group(1) == b"1":
            self._keep_alive = b"close" not in connection
        else:
            self._keep_alive = b"keep-alive" in connection
        self._body_bytes, self._body = 0, bytearray()
        coding = b",".join(headers.get(b"transfer-encoding", [])).lower()
        if self._head_request or status in (204, 304):
            self._state, self._remaining = _LENGTH, 0
        elif coding:
            last = coding.split(b",")[-1].strip()
            self._state = _CHUNK_SIZE_LINE if last == b"chunked" else _UNTIL_CLOSE
        elif b"content-length" in headers:
            self._state, self._remaining = _LENGTH, _content_length(headers[b"content-length"])
        else:
            self._state = _UNTIL_CLOSE
        return True

    def _complete(self) -> Response:
        response = Response(self._status, self._keep_alive, self._body_bytes,
                            bytes(self._body) if self.keep_body else None)  # fmt: skip
        self._state, self._body_bytes, self._body = _HEAD, 0, bytearray()
        return response


def _headers(lines: list[bytes]) -> dict[bytes, list[bytes]]:
    headers: dict[bytes, list[bytes]] = {}
    last: list[bytes] | None = None
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # obs-fold: a continuation of the previous value
            if last is None:
                raise ProtocolError("a header continuation line with no header before it")
            last[-1] += b" " + line.strip()
            continue
        name, colon, value = line.partition(b":")
        if not colon or TOKEN.fullmatch(name) is None:
            raise ProtocolError(f"bad header line {line[:60]!r}")
        last = headers.setdefault(name.lower(), [])
        last.append(value.strip(b" \t"))
    return headers


def _content_length(values: list[bytes]) -> int:
    lengths = {part.strip() for value in values for part in value.split(b",")}
    if len(lengths) != 1:
        raise ProtocolError(f"conflicting Content-Length values {sorted(lengths)!r}")
    (length,) = lengths
    if _DIGITS.fullmatch(length) is None:
        raise ProtocolError(f"bad Content-Length {length[:20]!r}")
    return int(length)
