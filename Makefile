# The two commands of the README. Both are idempotent: a second run reuses the venv,
# the Maven cache and any healthy server.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-clusters test-all install tools services services-down static-checks lint bench asv notebooks notebook-times clean \
	quick-suite test-suite unit-tests

# Each prints how long it took in all: install, servers, and the work itself.
TIMED = start=$$(date +%s); $(MAKE) --no-print-directory $(1); status=$$?; \
	echo "make $@: $$(( $$(date +%s) - start )) s in all (exit $$status)"; exit $$status

lab:
	@$(call TIMED,quick-suite)

test:
	@$(call TIMED,test-suite)

# The report is written even when an experiment could not run (it says why); the exit
# status is then lab run's.
quick-suite: services
	$(BIN)/lab run --quick; status=$$?; $(BIN)/lab report && exit $$status

# The static checks and the unit tests need no server and measure nothing: they run on
# the CPU nothing else wants (SCHED_IDLE: `chrt --idle 0`; a task of any other policy
# takes the core back as it wakes), beside the tests that measure, and their output is
# held and printed when they end. They start once the service frame is stored (its
# machine-CPU line would count them as load; the frame is measured first and opens
# LAB_TEST_IDLE_GATE, tests/experiment_frames.py), or when the measuring ends.
# The tests that measure (or stop a shared server: the `alone` marker, tests/conftest.py)
# run one at a time with no other test beside them at normal priority; then the other
# integration tests run three at a time, a file per worker (a file's servers and fixtures
# stay on one worker), the longest files first (tests/conftest.py), once the idle work
# has ended (beside them it slowed their CPU-bound tests: asv's took 36 s against 27 s
# in one clone). The integration phases run once the servers are up; any phase's failure
# fails the target.
IDLE        = $(if $(shell command -v chrt),chrt --idle 0,nice -n 19)
INTEGRATION = LAB_REQUIRE_SERVICES=1 $(BIN)/pytest --benchmark-disable --durations=15
SINCE       = $$(( $$(date +%s) - began )) s after install
AFTER_GATE  = while [ ! -e $$gate ]; do sleep 1; done;
test-suite: install
	@status=0; ready=yes; held=$$(mktemp); checks=$$(mktemp); gate=$$(mktemp -u); \
	began=$$(date +%s); \
	( $(AFTER_GATE) echo "make test: the idle work started $(SINCE)"; \
	  LAB_REQUIRE_SERVICES=1 exec $(IDLE) $(BIN)/pytest --benchmark-disable -q -n 2 tests/unit \
	  > $$held 2>&1 ) & unit=$$!; \
	( $(AFTER_GATE) exec $(IDLE) $(MAKE) --no-print-directory static-checks > $$checks 2>&1 ) & checked=$$!; \
	trap 'kill $$unit $$checked 2>/dev/null; rm -f $$held $$checks $$gate; exit 130' INT TERM; \
	if $(MAKE) --no-print-directory services; then \
	  echo "make test: servers ready $(SINCE)"; \
	  LAB_TEST_IDLE_GATE=$$gate $(INTEGRATION) -m "not kafka_cluster and alone" \
	    tests/bench tests/integration || status=$$?; \
	  echo "make test: the tests that measure ended $(SINCE)"; \
	else status=2; ready=no; fi; \
	touch $$gate; \
	wait $$checked || status=$$?; \
	echo "--- the static checks, run beside the above ($(IDLE)) ---"; cat $$checks; rm -f $$checks; \
	wait $$unit || status=$$?; \
	echo "--- the unit tests, run beside the above ($(IDLE)) ---"; cat $$held; rm -f $$held $$gate; \
	echo "make test: the unit tests and static checks ended $(SINCE)"; \
	[ $$ready = no ] || { $(INTEGRATION) -n 3 --dist loadfile --no-loadscope-reorder \
	  -m "not kafka_cluster and not alone" tests/integration || status=$$?; \
	  echo "make test: the other integration tests ended $(SINCE)"; }; \
	exit $$status

# The 3-broker Kafka's tests start three more JVMs (57 s and 52 s here, two runs of
# `pytest -m kafka_cluster tests/integration/test_kafka_cluster_failure.py`): kept out of
# `make test`'s 10 minutes, run with the servers of `make test` up.
test-clusters: install services
	LAB_REQUIRE_SERVICES=1 $(BIN)/pytest --benchmark-disable -m kafka_cluster tests/integration

unit-tests: install
	LAB_REQUIRE_SERVICES=1 $(BIN)/pytest --benchmark-disable -q -n 2 tests/unit

install: $(STAMP)

# uv installs the same packages as pip, bytecode compiled as pip does, in 18 s against
# pip's 41 s (a fresh venv here); pip stays in the venv for asv's builds.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python \
	  -e '.[dev,notebooks,bench,fast,peers,asgi,browser]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

services: install tools
	$(BIN)/lab services up

# Peer load generators the experiments compare against (wrk from Debian, vegeta with
# go install), Prometheus (its promtool checks the shipped rules), and the browser the
# static-assets experiment drives (optional: skipped when missing; the tests fail without
# chromium or promtool in CI).
tools:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q wrk >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }; } || \
	  echo "wrk is not installed: experiments will leave it out"
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }; } || \
	  echo "chromium is not installed: the static-assets browser runs will be skipped"
	@command -v promtool >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q prometheus >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q prometheus >/dev/null; }; }; } || \
	  echo "prometheus is not installed: the recording-rule checks (promtool) will be skipped"
	@command -v vegeta >/dev/null || test -x "$$(go env GOPATH 2>/dev/null)/bin/vegeta" || \
	  { command -v go >/dev/null && go install github.com/tsenart/vegeta/v12@v12.13.0; } || \
	  echo "vegeta is not installed (needs Go): the loadgen experiment will leave it out"

static-checks: install
	$(BIN)/ruff check .
	$(BIN)/mypy

services-down:
	$(BIN)/lab services down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest-benchmark saves its JSON under .benchmarks/ (pyproject's addopts); `lab report`
# shows the file of the run's commit.
bench: services
	$(BIN)/pytest --benchmark-only --benchmark-enable tests/bench

# JupyterLab refuses to run as root unless told (containers and CI machines often are).
notebooks: install
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

notebook-times:
	$(BIN)/python -m lab.harness.notebook_times --run reference --repeats 3

asv: services
	$(BIN)/asv machine --yes >/dev/null
	$(BIN)/asv run --python=same --quick --show-stderr --set-commit-hash $$(git rev-parse HEAD)
	$(BIN)/asv publish

clean: services-down
	rm -rf $(VENV) .lab results report .asv .benchmarks
