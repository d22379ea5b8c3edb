# Everything a new machine needs is installed by these targets themselves (Python 3.11, pip, make).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.8

# `make help` lists the targets with the line above each.
.PHONY: help install clients serve test fuzz lint typecheck lock clean browser pgbouncer screenshots bench bench-quick bench-fleet bench-tools soak

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Installs Waybill and its pinned dependencies into .venv.
install: $(STAMP)

# GitHub's OpenAPI description and the JavaScript clients the conformance tests drive, pinned by the
# lock file; npm's cache makes later installs work offline.
JS := tests/clients/js
JS_STAMP := $(JS)/node_modules/.installed

$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

# Installs the pinned JavaScript clients and GitHub's OpenAPI description.
clients: $(JS_STAMP)

# Serves http://127.0.0.1:8080 on the embedded SQLite database in ./var.
serve: install
	$(BIN)/waybill serve

# The page tests drive Debian's Chromium (a browser cannot be downloaded by Playwright here): install
# it when it is missing, as root (CI runs as root); a no-op when it is already there.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Installs Debian's Chromium for the page tests when it is missing.
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# The connection-pooler test runs Debian's PgBouncer; installed the same way when it is missing.
pgbouncer:
	@test -x /usr/sbin/pgbouncer || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends pgbouncer; }

# Every test, or one file or directory: make test T=tests/artifacts. A full run measures coverage and
# fails below the floor in pyproject.toml.
T ?=
COVERAGE := $(if $(T),,--cov --cov-report=term)
test: install clients browser pgbouncer
	$(BIN)/pytest -n 2 --dist loadgroup $(COVERAGE) $(T)

# The long property-based run over every implemented operation, on SQLite and PostgreSQL.
FUZZ_EXAMPLES ?= 100
FUZZ_SEED ?= 20261110
# e.g. FUZZ_ARGS="--tag code-scanning --min-requests 5000" for a long run over one family.
FUZZ_ARGS ?=
fuzz: install clients
	$(BIN)/python -m tests.contract.fuzz --max-examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED) --min-requests 20000 $(FUZZ_ARGS)

# Retakes the README's pictures of the pages (docs/screenshots/*.png) with the browser tests.
screenshots: install browser
	WAYBILL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/web/test_browser.py -k sqlite

# Style, formatting and the import contracts (pyproject.toml's [tool.importlinter]).
lint: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check src tests bench testkit
	$(BIN)/ruff format --check src tests bench testkit

# mypy --strict over src, tests, bench and testkit.
typecheck: install
	$(BIN)/mypy

# Re-pins requirements.lock from pyproject.toml.
lock:
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

# The load generator (wrk), pgbench and the peer (Prism, pinned in bench/package-lock.json).
bench-tools:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	@command -v pgbench >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql-client; }
	@test -x bench/node_modules/.bin/prism || (cd bench && npm ci --no-audit --no-fund --loglevel=error)

# Every scenario on SQLite and PostgreSQL beside its ceilings; BENCH_SCALES=10k,1m,10m by default.
# Then the fleet: 200 deployment-trackers against one server (bench/fleet.py).
bench: install bench-tools
	$(BIN)/python -m bench
	$(BIN)/python -m bench.fleet

# A few minutes: short runs at 10k records only, and a short fleet, for trying the harness.
bench-quick: install bench-tools
	BENCH_QUICK=1 $(BIN)/python -m bench
	$(BIN)/python -m bench.fleet --seconds 10 --steps 10,50 --step-seconds 5

bench-fleet: install bench-tools
	$(BIN)/python -m bench.fleet

# Mixed load on both databases against `waybill serve --workers 2`, each process's memory every 10 s
# and its slope over the last 5 minutes; SOAK_MINUTES=4 for a shorter run.
SOAK_MINUTES ?= 10
soak: install
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(JS)/node_modules

help:
	@awk '/^# / { if (!doc) doc = substr($$0, 3); next } /^$$/ { doc = ""; next } \
		/^[a-z-]+:/ { if (doc) printf "  %-14s %s\n", substr($$1, 1, length($$1) - 1), doc; doc = "" }' \
		$(MAKEFILE_LIST)
