"""How the lab shows what it measured: a run's folder becomes one HTML report
(:mod:`~lab.report.build`), with headline figures (:mod:`~lab.report.headlines`), the
figures of two runs compared (:mod:`~lab.report.cells`), pytest-benchmark and asv results
(:mod:`~lab.report.bench_results`), and a check of the page in Chromium
(:mod:`~lab.report.page_check`)."""
