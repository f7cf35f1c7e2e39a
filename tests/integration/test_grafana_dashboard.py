"""The Grafana dashboard (docs/grafana/dashboards/lab.json): every query is PromQL that
promtool accepts, every metric it reads is one a live `lab serve` exports (or one the
SLO rules record), its SLO lines are slo.yaml's, and it has the panels its users need."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lab.harness.slo import load_slo
from tests.conftest import skip_unless_required
from tests.integration.service_helpers import service_process

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
def exported(all_up: None) -> Iterator[set[str]]:
    """The metric names a live `lab serve` exports, after a request of each kind."""
    with service_process() as base:
        for path in ("/api/users/1", "/api/users/1/summary", "/api/users?limit=2"):
            urllib.request.urlopen(f"{base}{path}", timeout=10).close()
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as got:
            text = got.read().decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
    yield names


def test_every_metric_it_reads_is_exported_or_recorded(exported: set[str]) -> None:
    recorded = {"slo:error_budget_remaining:ratio", "slo:sli_error:ratio_rate1h",
                "slo:sli_error:ratio_rate6h"}  # fmt: skip
    # the Kafka processor's lag is exported where a KafkaBatchProcessor runs with metrics
    elsewhere = {"lab_kafka_lag"}
    read = {name for expr in EXPRESSIONS for name in METRIC.findall(expr)}
    missing = read - exported - recorded - elsewhere
    assert not missing, f"the dashboard reads {missing}, which lab serve does not export"
