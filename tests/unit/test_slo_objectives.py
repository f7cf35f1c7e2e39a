"""SLO objectives in slo.yaml, and the Prometheus rules `lab slo rules` writes for them:
checked by `promtool check rules`, and run by `promtool test rules` over synthetic series
(a healthy service fires nothing; a sustained fault fires the fast burn; a slow leak the
ticket alone)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.errors import ConfigError
from lab.harness.slo import load_slo
from lab.harness.slo_objectives import Objective, load_objectives, parse_objectives
from lab.harness.slo_rules import rule_groups
from tests.conftest import skip_unless_required

ROOT = Path(__file__).resolve().parents[2]


def test_the_repositorys_objectives() -> None:
    assert load_objectives(ROOT / "slo.yaml") == [
        Objective("availability", "availability", 99.9, 30 * 86_400),
        Objective("latency", "latency", 99.0, 30 * 86_400, threshold_s=1.0),
    ]
    assert len(load_slo(ROOT / "slo.yaml")) == 8  # the threshold lines are apart


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("objectives: {}\n", 1, "a list of objectives"),
        ("objectives:\n  - name: a\n    sli: availability\n    target_percent: 99\n", 2,
         "lacks window"),
        ("objectives:\n  - {name: a, sli: availability, target_percent: 100, window: 30d}\n", 2,
         "between 0 and 100"),
        ("objectives:\n  - {name: a, sli: availability, target_percent: 99, window: 1 month}\n",
         2, "window is a whole number"),
        ("objectives:\n  - {name: a, sli: {latency_below_ms: 400}, target_percent: 99,\n"
         "     window: 30d}\n", 2, "edge of the request histogram: 1, 2.5"),
        ("objectives:\n  - {name: a, sli: errors, target_percent: 99, window: 30d}\n", 2,
         "sli is `availability` or"),
        ("objectives:\n  - {name: A B, sli: availability, target_percent: 99, window: 30d}\n",
         2, "lower-case"),
        ("objectives:\n  - {name: a, sli: availability, target_percent: 99, window: 1d, x: 1}\n",
         2, "unknown field 'x'"),
        ("objectives:\n  - {name: a, sli: availability, target_percent: 99, window: 1d}\n"
         "  - {name: a, sli: availability, target_percent: 98, window: 1d}\n", 3, "twice"),
    ],
)  # fmt: skip
def test_a_bad_objective_names_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError, match=rf"slo.yaml, line {line}: .*{words}"):
        parse_objectives(text)


def test_rules_read_the_objective_and_scale_the_windows() -> None:
    groups = rule_groups(load_objectives(ROOT / "slo.yaml"), scale=60)["groups"]
    assert [g["name"] for g in groups] == [
        "slo-availability-sli-scaled-60x", "slo-availability-alerts-scaled-60x",
        "slo-latency-sli-scaled-60x", "slo-latency-alerts-scaled-60x",
    ]  # fmt: skip
    recorded = {rule["record"]: rule["expr"] for rule in groups[0]["rules"]}
    assert recorded["slo:sli_error:ratio_rate1h"] == (
        '(sum(rate(http_requests_total{service="lab-serve",status="5xx"}[1m])) or vector(0))'
        ' / sum(rate(http_requests_total{service="lab-serve"}[1m]))'
    )
    latency = {rule["record"]: rule["expr"] for rule in groups[2]["rules"]}
    assert 'le="1.0"' in latency["slo:sli_error:ratio_rate5m"] and "[5s]" in latency[
        "slo:sli_error:ratio_rate5m"]  # fmt: skip
    fast = groups[1]["rules"][0]
    assert fast["expr"] == ('slo:sli_error:ratio_rate1h{slo="availability"} > 0.0144 and '
                            'slo:sli_error:ratio_rate5m{slo="availability"} > 0.0144')  # fmt: skip
    assert "scaled ÷60" in fast["annotations"]["summary"]
    with pytest.raises(ConfigError, match="the shortest is 4 s"):
        rule_groups(load_objectives(ROOT / "slo.yaml"), scale=100)


# --- promtool --------------------------------------------------------------------------


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        skip_unless_required("promtool is not installed (Debian's prometheus package; "
                             "`make tools` installs it)")  # fmt: skip
    return found or ""


def _alert(groups: list[dict[str, Any]], burn: str) -> dict[str, Any]:
    rule = next(r for g in groups for r in g["rules"]
                if "alert" in r and r["labels"]["slo"] == "availability"
                and r["labels"]["burn_rate"] == burn)  # fmt: skip
    return {"exp_labels": {"alertname": "ErrorBudgetBurn", **rule["labels"]},
            "exp_annotations": rule["annotations"]}  # fmt: skip


def _series(per_second: int, errors_per_second: float, seconds: int) -> list[dict[str, str]]:
    labels = 'service="lab-serve", method="GET", route="/api/users/{id}"'
    good = per_second - errors_per_second
    return [
        {"series": f'http_requests_total{{{labels}, status="2xx"}}',
         "values": f"0+{good:g}x{seconds}"},
        {"series": f'http_requests_total{{{labels}, status="5xx"}}',
         "values": f"0+{errors_per_second:g}x{seconds}"},
    ]  # fmt: skip


def test_the_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = _promtool()
    rules = rule_groups(load_objectives(ROOT / "slo.yaml"), scale=60)
    (tmp_path / "slo.rules.yml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    check = subprocess.run([promtool, "check", "rules", str(tmp_path / "slo.rules.yml")],
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0 and "SUCCESS: 20 rules found" in check.stdout, check.stderr

    groups = rules["groups"]
    tests = {
        "rule_files": ["slo.rules.yml"], "evaluation_interval": "1s",
        "tests": [
            {   # 0.05 % of requests fail: half the budget's rate; nothing fires
                "interval": "1s", "input_series": _series(2000, 1, 900),
                "alert_rule_test": [{"eval_time": "14m", "alertname": "ErrorBudgetBurn",
                                     "exp_alerts": []}],
            },
            {   # a sustained fault, 2 % failing: every burn rate is exceeded
                "interval": "1s", "input_series": _series(100, 2, 180),
                "alert_rule_test": [{"eval_time": "2m", "alertname": "ErrorBudgetBurn",
                                     "exp_alerts": [_alert(groups, "14.4"), _alert(groups, "6"),
                                                    _alert(groups, "1")]}],
            },
            {   # a slow leak, 0.3 % failing: over the budget (x3), under a page's 6x
                "interval": "1s", "input_series": _series(1000, 3, 900),
                "alert_rule_test": [{"eval_time": "14m", "alertname": "ErrorBudgetBurn",
                                     "exp_alerts": [_alert(groups, "1")]}],
            },
        ],
    }  # fmt: skip
    (tmp_path / "slo.test.yml").write_text(yaml.safe_dump(tests, allow_unicode=True))
    run = subprocess.run([promtool, "test", "rules", str(tmp_path / "slo.test.yml")],
                         capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
