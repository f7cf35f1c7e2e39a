from __future__ import annotations

import re

import pandas as pd

from lab.harness import plots
from lab.harness.slo import Target, evaluate
from lab.report.html import Section, format_table, render_report

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""")


def _html() -> str:
    table = pd.DataFrame(
        {"cell": ["redis get", "pg <select>"], "ratio": [0.5, 0.25], "ratio_min": [0.4, 0.2],
         "ratio_max": [0.6, 0.3]}
    )  # fmt: skip
    figure = plots.ratio_bars(table, label_columns=["cell"], title="t")
    sections = [
        Section("baseline", "Baseline", "How fast?", [("Ratios", table)], [plots.to_svg(figure)], 8)
    ]
    verdicts = evaluate(
        [Target("db_connections_percent", "below", 80), Target("throughput_rps", "above", 1000)],
        {"db_connections_percent": 16.0},
    )
    meta = {"machine": {"cpu_model": "Test CPU", "cores": 2}, "command": "lab run --quick"}
    sources = {"db_connections_percent": "service: pg_stat_activity"}
    return render_report(run_id="20260101T000000Z-abc", meta=meta, sections=sections,
                         verdicts=verdicts, slo_sources=sources)  # fmt: skip


def test_report_is_self_contained() -> None:
    html = _html()
    assert "<svg" in html and "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert not EXTERNAL.search(html)
    assert "<script" not in html


def test_report_shows_verdicts_sections_and_machine() -> None:
    html = _html()
    assert "SLO PASS: 1 pass, 0 fail, 1 not measured (of 2 targets)" in html
    assert "db_connections_percent" in html and "not measured" in html
    assert 'id="baseline"' in html and "Test CPU" in html
    assert "<h3>Ratios</h3>" in html
    assert "pg &lt;select&gt;" in html  # cells are escaped


def test_each_slo_line_says_where_it_was_measured() -> None:
    from lab.experiments.service.tables import SLO_SOURCES
    from lab.harness.slo import METRICS

    html = _html()
    assert '<td class="source">service: pg_stat_activity</td>' in html
    assert '<td class="source">–</td>' in html  # throughput: not measured in this run
    assert set(SLO_SOURCES) == set(METRICS)  # the service experiment names every one


def test_format_table_rounds_for_reading() -> None:
    html = format_table(pd.DataFrame({"x": [12345.678, 0.012345, float("nan")]}))
    assert "12,346" in html and "0.0123" in html and "–" in html


def test_a_missing_experiment_says_why() -> None:
    from lab.report.build import missing_reason

    meta = {"experiments": ["baseline", "caching"], "skipped": {"baseline": "redis is down"}}
    assert missing_reason("baseline", meta) == "did not run: redis is down"
    assert missing_reason("caching", meta).startswith("started but did not finish")
    assert missing_reason("cdn", meta) == "not part of this run: `lab run cdn` measures it"
    html = render_report(
        run_id="r",
        meta={},
        verdicts=[],
        sections=[
            Section("cdn", "Static assets", "Does it pay?", [], missing=missing_reason("cdn", {}))
        ],
    )
    assert "No results: not part of this run: <code>" not in html  # escaped, not markup
    assert "No results: not part of this run: `lab run cdn` measures it." in html


def test_headlines_and_peers_are_listed_with_their_spread() -> None:
    from lab.report.headlines import headlines

    cost = pd.DataFrame({
        "workload": ["hit", "hit"], "concurrency": [50, 50],
        "variant": ["lab redis", "cashews redis"], "runs": [3, 3],
        "cost_vs_redis_py": [1.16, 2.9], "cost_vs_redis_py_min": [1.12, 2.8],
        "cost_vs_redis_py_max": [1.2, 3.0],
    })  # fmt: skip
    found = headlines("caching", [("Cost of a hit", cost)])
    html = render_report(run_id="r", meta={}, verdicts=[], sections=[], headlines=found)
    assert html.count("1.16 [1.12-1.2], 3 runs") == 1  # in the headlines only
    assert html.count("2.5 [2.33-2.68], 3 runs") == 2  # and among the peers
    assert "<td>cashews</td>" in html


def test_a_quick_run_says_its_slo_lines_are_no_verdict() -> None:
    quick = render_report(run_id="r", meta={"quick": True}, sections=[], verdicts=[])
    full = render_report(run_id="r", meta={"quick": False}, sections=[], verdicts=[])
    assert "This is a quick run" in quick and "This is a quick run" not in full
