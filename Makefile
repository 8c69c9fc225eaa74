# Everything starts from a fresh clone with Python 3.11: each target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
BIN := .venv/bin
DBT_ARGS := --project-dir dbt_project --profiles-dir dbt_project

export UV_COMPILE_BYTECODE := 1
# Dagster reads dagster.yaml from here; run history goes to the gitignored .dagster folder.
export DAGSTER_HOME := $(CURDIR)

.PHONY: run test ui install prepare clean

run: prepare  ## materialize every asset on the demo market and print the report
	$(BIN)/rotation run
	$(BIN)/rotation report

test: prepare  ## the whole test suite
	$(BIN)/pytest

ui: prepare  ## the Dagster UI on http://127.0.0.1:3000 (Ctrl-C stops it)
	env --default-signal=INT,TERM $(BIN)/dagster dev -h 127.0.0.1 -p 3000 -m orchestration.definitions

install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --frozen

prepare: install  ## the dbt manifest the Dagster definitions load
	$(BIN)/dbt parse $(DBT_ARGS) --quiet

clean:
	rm -rf .venv .dagster dbt_project/target dbt_project/logs warehouse/*.duckdb warehouse/*.duckdb.wal

.PHONY: bench
bench: prepare  ## the scale benchmark (BENCH_TICKERS=3000 BENCH_YEARS=30 by default; see docs/performance.md)
	$(BIN)/python -m bench.run
