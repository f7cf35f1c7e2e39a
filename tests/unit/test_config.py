from __future__ import annotations

import pytest

from lab.config import HostPort, endpoints
from lab.errors import ConfigError


def test_defaults_point_at_the_local_services(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LAB_REDIS_URL", "LAB_POSTGRES_DSN", "LAB_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(var, raising=False)
    ep = endpoints()
    assert ep.redis == HostPort("127.0.0.1", 6379)
    assert ep.postgres == HostPort("127.0.0.1", 5432)
    assert (ep.postgres_user, ep.postgres_database) == ("lab", "lab")
    assert ep.kafka == HostPort("127.0.0.1", 9092)


@pytest.mark.parametrize(
    ("var", "value", "words"),
    [
        ("LAB_REDIS_URL", "http://127.0.0.1:6379", "not a redis:// URL"),
        ("LAB_REDIS_URL", "redis://127.0.0.1:99999/0", "port"),
        ("LAB_POSTGRES_DSN", "lab@127.0.0.1/lab", "not a postgresql:// URL"),
        ("LAB_KAFKA_BOOTSTRAP", "127.0.0.1", "not host:port"),
        ("LAB_KAFKA_BOOTSTRAP", "127.0.0.1:ninety", "not host:port"),
    ],
)
def test_bad_endpoints_are_one_line_config_errors(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, words: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=words) as caught:
        endpoints()
    assert var in str(caught.value)
    assert isinstance(caught.value, ValueError)
