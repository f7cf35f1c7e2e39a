"""`--scenario`: requests decided in Python, reported by name, over real HTTP: against a
simulated server on 127.0.0.1, and the shipped example against `lab serve`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from lab.errors import ConfigError
from lab.harness.loadgen import LoadSettings, Schedule, run_load
from lab.harness.loadgen.scenario import Scenario
from lab.harness.simulate import ServerModel, SimulatedServer
from tests.integration.service_helpers import SERVICE_USERS, service_process

RunLab = Callable[..., subprocess.CompletedProcess[str]]
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "scenarios" / "lab_serve.py"

CHAIN = """
from lab.harness.loadgen.scenario import Request

def next_request(user):
    last = user.last
    if last is not None and last.name == "step" and last.status == 200:
        return Request(f"/step?after={last.json()['next']}", name="step")
    if user.rng.random() < 0.5:
        return Request("/step", name="step")
    return Request("/other", method="POST", name="other", body=b"{}")
"""


async def test_requests_are_named_and_a_value_is_carried_from_the_last_answer(
    tmp_path: Path,
) -> None:
    seen_after: list[int] = []

    def respond(request: web.Request) -> web.Response:
        after = int(request.query.get("after", 0))
        seen_after.append(after)
        return web.json_response({"next": after + 1})

    scenario = tmp_path / "chain.py"
    scenario.write_text(CHAIN)
    async with SimulatedServer(ServerModel(), respond=respond) as server:
        settings = LoadSettings(server.url, schedule=Schedule.constant(100, 1.0),
                                scenario=str(scenario), users=3, seed=7)  # fmt: skip
        result = await run_load(settings)
    assert result.requests == 100 and result.errors == 0
    assert set(result.by_name) == {"step", "other"}
    assert sum(named.requests for named in result.by_name.values()) == 100
    assert max(seen_after) >= 3  # each user went on from the answer it was given


async def test_a_scenario_that_raises_fails_those_requests_and_says_where(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.py"
    scenario.write_text("from lab.harness.loadgen.scenario import Request\n\n"
                        "def next_request(user):\n"
                        "    return Request('/' + user.state['missing'])\n")  # fmt: skip
    async with SimulatedServer(ServerModel()) as server:
        result = await run_load(LoadSettings(server.url, schedule=Schedule.constant(20, 0.5),
                                             scenario=str(scenario)))  # fmt: skip
    assert result.requests == 10 and result.error_counts == {"scenario error": 10}
    assert result.scenario_error == "KeyError: 'missing' (broken.py, line 4)"


@pytest.mark.parametrize(
    ("text", "words"),
    [(None, "no such file"), ("def next_request(user:\n", "did not load: SyntaxError"),
     ("x = 1\n", "defines no next_request")],
)  # fmt: skip
def test_a_scenario_that_cannot_load_is_a_config_error(tmp_path: Path, text: str | None,
                                                       words: str) -> None:  # fmt: skip
    path = tmp_path / "scenario.py"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        Scenario(str(path))


@pytest.fixture(scope="module")
def lab_service(all_up: None) -> Iterator[str]:
    with service_process() as url:
        yield url


def test_the_example_drives_lab_serve_by_name(run_lab: RunLab, lab_service: str,
                                              tmp_path: Path) -> None:  # fmt: skip
    out, slo = tmp_path / "mix.json", tmp_path / "slo.yaml"
    slo.write_text("latency_p99_ms[profile]: {below: 60000}\n"
                   "error_rate_percent[posts (next page)]: {below: 1}\n")  # fmt: skip
    done = run_lab("loadtest", f"{lab_service}/", "--rate", "100", "--duration", "4s",
                   "--scenario", str(EXAMPLE), "--users", "20", "--json", str(out),
                   "--slo", str(slo), env={"LAB_SERVE_USERS": str(SERVICE_USERS)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "by request name" in done.stdout and "SLO PASS: 2 pass" in done.stdout
    data = json.loads(out.read_text())
    by_name = data["by_name"]
    assert {"profile", "posts", "posts (next page)", "summary", "register"} <= set(by_name)
    assert data["errors"] == 0, data["error_counts"]
    assert sum(n["requests"] for n in by_name.values()) == 400
    assert data["status_counts"].get("201", 0) == by_name["register"]["requests"]
