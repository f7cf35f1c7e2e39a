"""The load generator over TLS, against a simulated server with a certificate from a test
CA (trustme): trusted through --ca-file, refused without it, accepted with --insecure."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from lab.errors import ConfigError
from lab.harness.loadgen import LoadSettings, Schedule, run_load
from lab.harness.simulate import ServerModel, SimulatedServer


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    yield str(path)


def _server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


async def _run(authority: trustme.CA, **options: object) -> tuple[dict[str, int], int]:
    async with SimulatedServer(ServerModel(), tls=_server_context(authority)) as server:
        assert server.url.startswith("https://")
        settings = LoadSettings(server.url, schedule=Schedule.constant(50, 0.4), **options)  # type: ignore[arg-type]
        result = await run_load(settings)
    return dict(result.error_counts), server.counters.answered


async def test_a_certificate_from_the_given_ca_is_trusted(authority: trustme.CA,
                                                          ca_file: str) -> None:  # fmt: skip
    errors, answered = await _run(authority, ca_file=ca_file)
    assert errors == {} and answered == 20


async def test_an_unknown_ca_is_an_error_of_its_own_kind(authority: trustme.CA) -> None:
    errors, answered = await _run(authority)
    assert answered == 0 and list(errors) == ["tls: unable to get local issuer certificate"]
    assert sum(errors.values()) == 20


async def test_insecure_checks_no_certificate(authority: trustme.CA) -> None:
    errors, answered = await _run(authority, insecure=True)
    assert errors == {} and answered == 20


def test_tls_options_on_a_plain_url_and_a_missing_ca_file_are_config_errors(
    tmp_path: Path,
) -> None:
    schedule = Schedule.constant(1, 1)
    with pytest.raises(ConfigError, match="for https://"):
        LoadSettings("http://127.0.0.1:1/", schedule=schedule, insecure=True)
    with pytest.raises(ConfigError, match="--ca-file"):
        LoadSettings("https://127.0.0.1:1/", schedule=schedule, ca_file=str(tmp_path / "no.pem"))


def test_a_runner_closes_cleanly_after_tls_connections(tmp_path: Path) -> None:
    """Each TLS connection is gone before run_load returns: a loop closed while a TLS
    close waited for the peer's close_notify failed ("Device or resource busy")."""
    from lab.harness.aio import new_runner
    from lab.harness.simulate import server_process, throwaway_certificate

    ca_file, chain, key = throwaway_certificate(tmp_path)
    with server_process(ServerModel(), tls_files=(chain, key)) as url:
        for _ in range(3):
            settings = LoadSettings(url, schedule=Schedule.constant(200, 0.3),
                                    connections=16, ca_file=ca_file)  # fmt: skip
            with new_runner() as runner:
                result = runner.run(run_load(settings))
            assert result.requests == 60 and result.errors == 0
