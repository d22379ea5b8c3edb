# Everything a new machine needs is installed by these targets themselves (Python 3.11, pip, make).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8

.PHONY: install serve test lint typecheck lock clean bench bench-quick bench-tools

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(STAMP)

serve: install
	$(BIN)/waybill serve

test: install
	$(BIN)/pytest -n 2

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

lock:
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

# The load generator (wrk), pgbench and the peer (Prism, pinned in bench/package-lock.json).
bench-tools:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	@command -v pgbench >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client; }
	@test -x bench/node_modules/.bin/prism || (cd bench && npm ci --no-audit --no-fund --loglevel=error)

# Every scenario on SQLite and PostgreSQL beside its ceilings; BENCH_SCALES=10k,1m,10m by default.
bench: install bench-tools
	$(BIN)/python -m bench

# A few minutes: short runs at 10k records only, for trying the harness.
bench-quick: install bench-tools
	BENCH_QUICK=1 $(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
