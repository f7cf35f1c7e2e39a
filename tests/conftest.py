"""Shared fixtures: the CLI as a user runs it, and the real servers.

Tests that need a server take its fixture (``redis_up``, ``postgres_up``, ``kafka_up``,
``all_up``). When CI or LAB_REQUIRE_SERVICES is set, a missing server fails the run
instead of skipping, so nothing is silently left out.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from lab.config import endpoints
from lab.harness.services import probe
from tests.experiment_frames import SessionFrames
from tests.notebook_runs import StoredRunNotebooks

# A shared, 2-core machine makes example run times vary tenfold: a deadline would fail a
# correct test. Behaviour, not speed, is what a test asserts.
settings.register_profile("lab", deadline=None)
settings.load_profile("lab")

ROOT = Path(__file__).resolve().parents[1]
LAB = [sys.executable, "-m", "lab.cli"]


@pytest.fixture
def run_lab() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``lab ARGS`` in a subprocess; ``env`` adds to the environment."""

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*LAB, *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def lab_here(monkeypatch: pytest.MonkeyPatch) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``lab ARGS`` in this process, through ``lab.cli.main`` as the ``lab`` command
    calls it: for refusals, which end before anything starts. A process of its own costs
    a second or two of imports; ``run_lab`` keeps a few of each file's cases that way."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
            ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        from lab.cli import main

        out, err, code = io.StringIO(), io.StringIO(), 0
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            patch.chdir(cwd)
            patch.setattr(sys, "argv", ["lab", *args])
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    main()
                except SystemExit as done:
                    code = done.code if isinstance(done.code, int) else int(done.code is not None)
        return subprocess.CompletedProcess(["lab", *args], code, out.getvalue(), err.getvalue())

    return run


REQUIRED = bool(os.environ.get("CI") or os.environ.get("LAB_REQUIRE_SERVICES"))


def skip_unless_required(message: str) -> None:
    """Skip, or fail when CI or LAB_REQUIRE_SERVICES is set: there a test cannot pass by
    skipping."""
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


def _need(service: str) -> None:
    health = probe(service, endpoints())
    if not health.healthy:
        skip_unless_required(
            f"{service} is not running ({health.detail}); start it with `lab services up`"
        )


@pytest.fixture(scope="session")
def redis_up() -> None:
    _need("redis")


@pytest.fixture(scope="session")
def postgres_up() -> None:
    _need("postgres")


@pytest.fixture(scope="session")
def kafka_up() -> None:
    _need("kafka")


@pytest.fixture(scope="session")
def prometheus_up() -> None:
    _need("prometheus")


@pytest.fixture(scope="session")
def all_up(redis_up: None, postgres_up: None, kafka_up: None) -> None:
    """All three servers answer."""


@pytest.fixture(scope="session")
def chromium() -> None:
    """Headless Chromium through Playwright (missing: a skip, or a failure in CI)."""
    from lab.harness.browser import browser_missing

    missing = browser_missing()
    if missing:
        skip_unless_required(missing)


NOTEBOOK_RUNS = pytest.StashKey[StoredRunNotebooks]()


@pytest.fixture(scope="session")
def frames(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> SessionFrames:  # fmt: skip
    """``frames(name)``: the session's one frame of experiment ``name``, measured on first
    use; the folder ``frames.run.path`` holds them as a stored run. When the session has
    tests of the stored-run notebooks, those notebooks are started here, each to run as
    soon as its frame is stored (``stored_run_notebooks``)."""
    stored = SessionFrames(tmp_path_factory.mktemp("results") / "session-run")
    if any("stored_run_notebooks" in getattr(item, "fixturenames", ())
           for item in request.session.items):  # fmt: skip
        runs = StoredRunNotebooks(stored, tmp_path_factory.mktemp("notebooks"))
        request.addfinalizer(runs.shutdown)
        request.config.stash[NOTEBOOK_RUNS] = runs
    return stored


@pytest.fixture(scope="session")
def stored_run_notebooks(frames: SessionFrames, request: pytest.FixtureRequest
                         ) -> StoredRunNotebooks:  # fmt: skip
    """The notebooks that open the session's stored run (tests/notebook_runs.py)."""
    return request.config.stash[NOTEBOOK_RUNS]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``integration`` by folder: every test under tests/integration talks to real servers
    (``pytest -m "not integration"`` runs the rest with none). ``alone`` for every test
    that measures (the benchmarks, and every test that reads an experiment's frame),
    besides the tests marked so by hand (they stop a shared server): ``make test`` runs
    the other integration tests three at a time, and these with nothing beside them."""
    integration = ROOT / "tests" / "integration"
    bench = ROOT / "tests" / "bench"
    for item in items:
        parents = Path(str(item.path)).parents
        if integration in parents:
            item.add_marker(pytest.mark.integration)
        # fixturenames is the whole closure: a test whose fixture reads a frame counts
        if bench in parents or "frames" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.alone)
    items.sort(key=_order)


def _order(item: pytest.Item) -> int:
    name = Path(str(item.path)).name
    if name == "test_service_bench.py":
        # First, so the service frame is measured before ``make test`` starts its
        # idle-priority work (the unit tests and static checks): the service's machine-CPU
        # line, and its search's wait for a quiet machine, count idle CPU as busy
        # (``IDLE_GATE``, tests/experiment_frames.py).
        return -1
    return _LONGEST_FIRST.get(name, len(_LONGEST_FIRST))


#: The integration files that take longest, longest first (seconds of their tests in one
#: run of the parallel phase, `pytest -n 2 --dist loadfile --durations=0 ...`, 2026-12-01):
#: ``make test`` hands files to its workers in this order (``--no-loadscope-reorder``;
#: the others keep their order after these), so no long file starts last and leaves one
#: worker alone at the end. Sorting is stable: tests keep their order within a file.
_LONGEST_FIRST = {name: rank for rank, name in enumerate((
    "test_run_and_report.py",  # 65 s
    "test_loadtest_cli.py",  # 58 s
    "test_services.py",  # 40 s
    "test_jupyterlab.py",  # 38 s
    "test_document_guide.py",  # 29 s
    "test_loadtest_http.py",  # 26 s
    "test_asv.py",  # 45 s; 21 s since asv runs two cheap suites (alone, one run)
    "test_messaging_kafka.py",  # 19 s
    "test_cdn_browser.py",  # 18 s
    "test_redis_cluster_failover.py",  # 18 s
    "test_loadgen.py",  # 18 s
))}  # fmt: skip
