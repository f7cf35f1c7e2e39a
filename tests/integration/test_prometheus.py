"""The Prometheus `lab services up` starts: it discovers `lab serve` while it runs and
forgets it when it stops, its queries see the requests the service answered, and it
loads the SLO rules `lab slo rules` writes."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import aiohttp

from lab.config import endpoints, lab_home
from lab.harness.services.prometheus_native import reload, rules_folder, targets_folder
from tests.conftest import skip_unless_required
from tests.integration.service_helpers import service_process, until
from tests.polling import eventually


async def _api(session: aiohttp.ClientSession, path: str, **params: str) -> Any:
    async with session.get(f"{endpoints().prometheus_url}/api/v1/{path}", params=params) as got:
        body = await got.json()
        assert got.status == 200 and body["status"] == "success", body
        return body["data"]


async def _lab_serve_targets(session: aiohttp.ClientSession) -> list[dict[str, Any]]:
    data = await _api(session, "targets", state="active")
    return [t for t in data["activeTargets"] if t["labels"].get("service") == "lab-serve"]


async def test_lab_serve_is_scraped_while_it_runs(all_up: None, prometheus_up: None) -> None:
    _ours()
    async with aiohttp.ClientSession() as session:
        with service_process() as base:
            address = base.removeprefix("http://")
            registered = list(targets_folder().glob("lab-serve-*.json"))
            assert any(address.replace(":", "-") in path.name for path in registered)

            async def scraped() -> bool:
                targets = await _lab_serve_targets(session)
                return any(t["labels"]["instance"] == address and t["health"] == "up"
                           for t in targets)  # fmt: skip

            await until(scraped)
            for user_id in range(1, 21):
                async with session.get(f"{base}/api/users/{user_id}") as answer:
                    assert answer.status == 200
            query = f'sum(http_requests_total{{service="lab-serve",instance="{address}"}})'

            async def counted() -> bool:
                result = (await _api(session, "query", query=query))["result"]
                return bool(result) and float(result[0]["value"][1]) >= 20

            await until(counted)
        assert not [p for p in targets_folder().glob("lab-serve-*.json")
                    if address.replace(":", "-") in p.name]  # fmt: skip


def _ours() -> None:
    """Discovery and rule files are those of the Prometheus `lab services up` started."""
    if not targets_folder().is_dir():
        skip_unless_required(f"Prometheus was not started by `lab services up` under {lab_home()}")


def _rule_groups() -> set[str]:
    with urllib.request.urlopen(f"{endpoints().prometheus_url}/api/v1/rules", timeout=10) as got:
        return {group["name"] for group in json.load(got)["data"]["groups"]}


def test_the_slo_rules_load_into_prometheus(run_lab: Any, prometheus_up: None) -> None:
    _ours()
    rules = rules_folder() / "lab-test-slo.yml"
    written = run_lab("slo", "rules", "--scale", "60", "--out", str(rules))
    assert written.returncode == 0, written.stderr
    try:
        assert reload(endpoints().prometheus_url)
        wanted = {"slo-availability-alerts-scaled-60x", "slo-latency-sli-scaled-60x"}
        assert eventually(lambda: wanted <= _rule_groups(), polls=150, every_s=0.2), (
            _rule_groups())  # fmt: skip
    finally:
        rules.unlink(missing_ok=True)
        reload(endpoints().prometheus_url)
