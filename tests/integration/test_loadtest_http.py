"""`lab loadtest` against servers that answer ordinary HTTP a lean client gets wrong:
HEAD, interim 100 responses, 404s, a broken status line, a refused port, and Ctrl-C.

The server is a raw TCP server on 127.0.0.1 (in a thread of this process) that writes
canned bytes per path, so each answer is exactly what the test says it is. `lab
loadtest` runs in this process too (``lab_here``), but for the refused port and Ctrl-C,
which run the command as a user does.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import LAB, ROOT
from tests.polling import eventually

RunLab = Callable[..., subprocess.CompletedProcess[str]]

ANSWERS = {
    "/head": b"HTTP/1.1 200 OK\r\nContent-Length: 5120\r\n\r\n",  # HEAD: no body follows
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/missing": b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
    "/bad-status": b"HTTP/1.1 abc Nope\r\nContent-Length: 0\r\n\r\n",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close",
}


class CannedServer:
    def __init__(self) -> None:
        self.requests = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                path = head.split(b" ", 2)[1].decode()
                writer.write(ANSWERS[path])
                await writer.drain()
                if path == "/close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()
        clients = asyncio.all_tasks(self.loop)
        for task in clients:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*clients, return_exceptions=True))
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()


@pytest.fixture(scope="module")
def canned() -> Iterator[CannedServer]:
    server = CannedServer()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    server.ready.wait()
    yield server
    server.loop.call_soon_threadsafe(server.loop.stop)
    thread.join()


def _run(lab_here: RunLab, canned: CannedServer, path: str, tmp_path: Path, *extra: str
         ) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:  # fmt: skip
    out = tmp_path / "result.json"
    url = f"http://127.0.0.1:{canned.port}{path}"
    done = lab_here("loadtest", url, "--rate", "40", "--duration", "1s", "--connections", "4",
                   "--json", str(out), *extra)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done, json.loads(out.read_text())


@pytest.mark.parametrize(
    ("path", "method"),
    [("/head", "HEAD"), ("/continue", "POST"), ("/chunked", "GET"), ("/close", "GET")],
)
def test_ordinary_answers_all_succeed(lab_here: RunLab, canned: CannedServer, tmp_path: Path,
                                      path: str, method: str) -> None:  # fmt: skip
    done, data = _run(lab_here, canned, path, tmp_path, "--method", method)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (data["requests"], data["errors"]) == (40, 0)
    assert data["status_counts"] == {"200": 40}


def test_a_404_is_an_error_unless_expected(lab_here: RunLab, canned: CannedServer,
                                           tmp_path: Path) -> None:  # fmt: skip
    done, data = _run(lab_here, canned, "/missing", tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert data["error_counts"] == {"status 404": 40} and data["status_counts"] == {"404": 40}
    assert "status 404" in done.stdout  # the table says which status
    line = done.stderr.strip()
    assert "\n" not in line and f"127.0.0.1:{canned.port}/missing" in line

    done, data = _run(lab_here, canned, "/missing", tmp_path, "--expect-status", "200-399,404")
    assert done.returncode == 0, done.stdout + done.stderr
    assert data["errors"] == 0 and data["settings"]["expect_status"] == "200-399,404"  # type: ignore[index]


def test_a_broken_status_line_is_a_protocol_error_not_a_crash(
    lab_here: RunLab, canned: CannedServer, tmp_path: Path
) -> None:
    done, data = _run(lab_here, canned, "/bad-status", tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert data["requests"] == 40 and data["error_counts"] == {"protocol error": 40}


def test_a_refused_target_exits_3_with_one_line_naming_it(run_lab: RunLab, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    done = run_lab("loadtest", url, "--rate", "20", "--duration", "500ms")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.strip() == f"lab: no request to {url} succeeded (connection refused: 10)"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_the_summary_and_the_json(canned: CannedServer, tmp_path: Path,
                                               workers: str) -> None:  # fmt: skip
    out = tmp_path / "stopped.json"
    before = canned.requests
    lab = subprocess.Popen([*LAB, "loadtest", f"http://127.0.0.1:{canned.port}/chunked",
                            "--rate", "50", "--duration", "10m", "--json", str(out),
                            "--workers", workers],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)  # fmt: skip
    try:
        assert eventually(lambda: canned.requests - before >= 20)
        lab.send_signal(signal.SIGINT)
        stdout, stderr = lab.communicate(timeout=120)
    finally:
        lab.kill()
    assert lab.returncode == 130, stderr
    data = json.loads(out.read_text())
    assert data["interrupted"] is True and data["requests"] >= 20 and data["errors"] == 0
    assert "load test" in stdout and "interrupted" in stderr


def test_version(run_lab: RunLab) -> None:
    done = run_lab("--version")
    assert done.returncode == 0 and done.stdout.startswith("lab ")
