# Everything starts from a fresh clone with Python 3.11: each target installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
BIN := .venv/bin
# Absolute, so that the parse cache in dbt_project/target also serves dbt run from inside dbt_project/.
DBT_ARGS := --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project

export UV_COMPILE_BYTECODE := 1
# Dagster's instance (dagster.yaml, run history): DAGSTER_HOME when set, else the warehouse's own (config.dagster_home:
# the project folder, history in the gitignored .dagster folder, for the default warehouse).
WAREHOUSE_DAGSTER_HOME = $${DAGSTER_HOME:-$$($(BIN)/python -c "from orchestration.config import dagster_home; print(dagster_home())")}

.PHONY: run test lint ui dashboard docs docs-serve install prepare clean spark-venv spark-up spark-down test-spark

run: prepare  ## materialize every asset on the demo market and print the report
	$(BIN)/rotation run
	$(BIN)/rotation report

# Two workers, each handed whole test modules in the order tests/conftest.py gives them: most tests
# wait on a dbt or Dagster subprocess that uses one core. The tests that need a Spark Thrift server (marker `spark`)
# are deselected by pyproject.toml's addopts: `make test-spark` runs them.
TEST_WORKERS ?= 2
test: prepare lint  ## lint, then the whole test suite (the Dagster definitions' check and the dbt unit tests included)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# The Spark engine (ROTATION_ENGINE=spark): a local Spark Thrift server, its state in .spark/ (docs/spark.md).
SPARK_VENV := .spark/venv
spark-venv: $(SPARK_VENV)/bin/spark-submit

$(SPARK_VENV)/bin/spark-submit: uv.lock
	UV_PROJECT_ENVIRONMENT=$(SPARK_VENV) $(UV) sync --frozen --only-group spark-server --no-install-project
	@touch $@

spark-up: install spark-venv  ## start the local Spark Thrift server (127.0.0.1, ROTATION_SPARK_PORT or 10001; Java 17 needed)
	spark/thrift_server.sh start

spark-down:  ## stop the local Spark Thrift server
	spark/thrift_server.sh stop

# The acceptance tests of the Spark engine (tests/spark, marker `spark`): the same marts as on DuckDB after a first
# build, a one-session refresh (which rewrites only the latest year on Spark) and a restated and a deleted price; then
# the dbt unit tests on Spark. The server is stopped afterwards even when a test fails; the exit status is the tests'.
test-spark: prepare spark-up  ## the Spark engine's tests, on a local Spark Thrift server started and stopped here
	status=0; $(BIN)/pytest tests/spark -m spark -s -p no:xdist || status=$$?; \
	  spark/thrift_server.sh stop; exit $$status

lint: install  ## ruff (settings in pyproject.toml)
	$(BIN)/ruff check .

UI_PORT ?= 3000
ui: prepare  ## the Dagster UI on http://127.0.0.1:3000 (Ctrl-C stops it; UI_PORT=... for another port)
	env --default-signal=INT,TERM DAGSTER_HOME=$(WAREHOUSE_DAGSTER_HOME) VIRTUAL_ENV=$(CURDIR)/.venv PATH=$(CURDIR)/$(BIN):$$PATH \
	  $(BIN)/dg dev --host 127.0.0.1 --port $(UI_PORT)

dashboard: prepare  ## the Market Rotation dashboard on http://127.0.0.1:8501, read from the serving snapshot (Ctrl-C stops it)
	$(BIN)/streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true --browser.gatherUsageStats false

docs: prepare  ## dbt docs (models, columns, tests, exposures) into dbt_project/target; serve them with `make docs-serve`
	ROTATION_DBT_WAREHOUSE=$$($(BIN)/python -c "from orchestration.config import export_warehouse_for_dbt as w; print(w())") \
	  $(BIN)/dbt docs generate $(DBT_ARGS) --quiet

docs-serve: docs  ## the dbt docs site on http://127.0.0.1:8080
	ROTATION_DBT_WAREHOUSE=$$($(BIN)/python -c "from orchestration.config import export_warehouse_for_dbt as w; print(w())") \
	  $(BIN)/dbt docs serve $(DBT_ARGS) --host 127.0.0.1 --port 8080 --no-browser

install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --frozen

# The dbt manifest the Dagster definitions load, parsed again only when a file of the dbt project changed; its
# parse cache is where a new warehouse's first run starts from (orchestration/dbt_parse.py).
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project -name target -prune -o -name logs -prune -o -type f -print)

prepare: install $(MANIFEST)  ## the dbt manifest the Dagster definitions load

$(MANIFEST): $(DBT_FILES) uv.lock
	$(BIN)/python -m orchestration.dbt_parse --quiet

# Removes the warehouses with everything derived from them (snapshots, dbt and Dagster folders, locks, the raw
# Parquet written for Spark) and the local Spark server's state in .spark/ (metastore, its tables, log) with its
# environment; stops that server first. Keeps the quarantine and landing folders, which hold files given by users.
clean:
	-spark/thrift_server.sh stop
	rm -rf .venv .dagster dbt_project/target dbt_project/logs warehouse/*.duckdb warehouse/*.duckdb.* warehouse/serving \
	  warehouse/spark .spark

.PHONY: bench
bench: prepare  ## the scale benchmark, a sweep (BENCH_SCALES=1000x10,3000x10,3000x30 by default; 10000x30 opt-in; see docs/performance.md)
	$(BIN)/python -m bench.run
