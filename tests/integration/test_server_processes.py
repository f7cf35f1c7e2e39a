"""The lab's own server processes stop cleanly on SIGTERM, even when started with SIGINT
ignored, as every command in a shell script's background job is (``make test &``).

Before they handled SIGTERM, each one was stopped with SIGINT, ignored it, and was only
SIGKILLed after its stop timeout: the test suite spent minutes waiting on them.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

SERVERS = {
    "lab simulate": ["-m", "lab.cli", "simulate", "--port", "0"],
    "followers": ["-m", "lab.service.followers"],
    "lab serve-static": ["-m", "lab.cli", "serve-static", "--port", "0", "--images", "2"],
}


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("argv", SERVERS.values(), ids=SERVERS.keys())
def test_a_server_started_with_sigint_ignored_stops_on_sigterm(argv: list[str]) -> None:
    process = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, text=True,
                               preexec_fn=_ignore_sigint)  # fmt: skip
    try:
        assert process.stdout is not None
        assert "http://127.0.0.1:" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        # A bound on the wait so a regression fails instead of hanging; not a timing.
        returncode = process.wait(timeout=60)
    finally:
        process.kill()
        process.communicate()
    assert returncode == 0  # it shut down itself: not killed, not a traceback
