"""The Grafana dashboard (docs/grafana/dashboards/lab.json): every query is PromQL that
promtool accepts and returns data from the lab's Prometheus while a `lab serve` runs,
every metric it reads is one that service exports (or one the SLO rules record), its SLO
lines are slo.yaml's, and it has the panels its users need."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lab.config import endpoints, lab_home
from lab.harness.promql import instant_values
from lab.harness.services.prometheus_native import rules_loaded
from lab.harness.slo import load_slo
from lab.harness.slo_objectives import load_objectives
from lab.harness.slo_rules import rule_groups
from tests.conftest import skip_unless_required
from tests.integration.service_helpers import service_process
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "docs" / "grafana" / "dashboards" / "lab.json").read_text())
EXPRESSIONS = [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
#: A metric name in PromQL: before a selector or a range, not a function or a keyword.
METRIC = re.compile(r"\b([a-z_:][a-z0-9_:]*)\s*\{")


def _titles() -> list[str]:
    return [panel["title"] for panel in DASHBOARD["panels"]]


def test_it_has_the_panels_its_users_need() -> None:
    needed = ["Request rate", "Error ratio", "Latency p50 / p95 / p99", "Error budget remaining",
              "Burn rate", "pool utilisation", "Cache hit ratio", "Circuit breaker open, per "
              "worker", "Concurrency limit", "Kafka consumer lag", "CPU and memory"]  # fmt: skip
    for words in needed:
        assert any(words in title for title in _titles()), words


def test_the_slo_lines_are_slo_yamls() -> None:
    lines = {target.metric: target.value for target in load_slo(ROOT / "slo.yaml")}
    latency = next(p for p in DASHBOARD["panels"] if p["title"].startswith("Latency"))
    drawn = [step["value"] for step in latency["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert drawn[1:] == [lines[f"latency_{p}_ms"] / 1000 for p in ("p50", "p95", "p99")]
    resources = next(p for p in DASHBOARD["panels"] if p["title"].startswith("CPU"))
    steps = resources["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps[1:]] == [lines["cpu_percent"], lines["memory_percent"]]


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_unless_required("promtool is not installed (`make tools` installs prometheus)")
        return
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"lab:dashboard_query:{i}", "expr": expr.replace("$__rate_interval", "1m")}
        for i, expr in enumerate(EXPRESSIONS)]}]}  # fmt: skip
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(rules))
    done = subprocess.run([promtool, "check", "rules", str(tmp_path / "dashboard.yml")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def live(all_up: None) -> Iterator[tuple[str, set[str]]]:
    """A live `lab serve` after a request of each kind: its base URL, and the metric
    names it exports."""
    # A consumer group of its own: lab_kafka_lag has a series only for a partition this
    # service consumes, and another service in its group (another test's, or one a killed
    # `lab run` left behind) could own the topic's one partition (no lag data in 60 s, once)
    with service_process("--registrations-group", f"lab-test-{uuid.uuid4().hex}") as base:
        _requests(base)
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as got:
            text = got.read().decode()
        names = set()
        for family in text_string_to_metric_families(text):
            names |= {sample.name for sample in family.samples}
        yield base, names


def _requests(base: str) -> None:
    for path in ("/api/users/1", "/api/users/1/summary", "/api/users?limit=2"):
        urllib.request.urlopen(f"{base}{path}", timeout=10).close()
    body = json.dumps({"email": f"dash-{time.time_ns()}@example.com", "name": "D"}).encode()
    request = urllib.request.Request(f"{base}/api/users", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    urllib.request.urlopen(request, timeout=10).close()


def test_every_metric_it_reads_is_exported_or_recorded(live: tuple[str, set[str]]) -> None:
    recorded = {"slo:error_budget_remaining:ratio", "slo:sli_error:ratio_rate1h",
                "slo:sli_error:ratio_rate6h"}  # fmt: skip
    read = {name for expr in EXPRESSIONS for name in METRIC.findall(expr)}
    missing = read - live[1] - recorded
    assert not missing, f"the dashboard reads {missing}, which lab serve does not export"


def _data(expr: str, at: float) -> bool:
    """The query gives at least one number (not NaN) at ``at``."""
    query = expr.replace("$__rate_interval", "30s")
    return any(not math.isnan(v) for v in instant_values(endpoints().prometheus_url, query, at))


def test_every_query_returns_data_from_a_live_service(
    live: tuple[str, set[str]], prometheus_up: None
) -> None:
    """Grafana cannot run here: its queries run against `lab services up`'s Prometheus
    while `lab serve` is scraped, with the SLO rules loaded (windows ÷60), and each must
    return data."""
    url = endpoints().prometheus_url
    rules = rule_groups(load_objectives(ROOT / "slo.yaml"), scale=60)
    with rules_loaded("lab-test-dashboard-slo", rules, url) as loaded:
        if loaded is None:
            skip_unless_required(f"Prometheus was not started by `lab services up` under "
                                 f"{lab_home()}")  # fmt: skip
        empty = list(EXPRESSIONS)

        def all_answer() -> bool:
            _requests(live[0])
            empty[:] = [expr for expr in empty if not _data(expr, time.time())]
            return not empty

        assert eventually(all_answer, polls=120, every_s=0.5), f"no data from {empty}"
