# Tessera developer entry points (README.md names them).
SHELL := /bin/bash
UV_VERSION := 0.13.9
export PATH := $(HOME)/.local/bin:$(PATH)
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: install up down status test test-tools test-unit lint fmt bench bench-ingress clean

# Everything a fresh machine needs: uv, the locked venv, Java + Kafka jars, Postgres, Redis.
install: .venv/.synced
	$(UV) run tessera install

# The venv's interpreter: Debian's CPython 3.11 (an optimised build, libpython linked in).
# pyenv's 3.11 here is a plain --enable-shared build and spends ~12% more CPU on the same
# ingress request (README, "Choosing the interpreter"). Any 3.11 uv finds when it is absent.
DEBIAN_PYTHON := /usr/bin/python3.11

.venv/.synced: pyproject.toml uv.lock Makefile
	@command -v uv >/dev/null 2>&1 || [ -x $(HOME)/.local/bin/uv ] || python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	@[ -x $(DEBIAN_PYTHON) ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11; } \
		|| echo "python3.11 from Debian not installable: using the 3.11 uv finds"
	$(UV) sync --frozen --python $$([ -x $(DEBIAN_PYTHON) ] && echo $(DEBIAN_PYTHON) || echo 3.11)
	@touch $@

up: install
	$(UV) run tessera up

down:
	@if [ -x .venv/bin/tessera ]; then $(UV) run tessera down; else echo "nothing to stop (no venv)"; fi

status: .venv/.synced
	$(UV) run tessera status

# Tools only the tests and benchmarks use, from Debian: headless Chromium (the ops page
# test) and wrk (the ingress benchmark and its test).
test-tools:
	@command -v chromium >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium wrk; }

# The whole suite on the real stack; the test session starts Kafka/Postgres/Redis if needed.
test: install test-tools
	$(UV) run pytest $(PYTEST_ARGS)

# Pure tests only: no Kafka, Postgres or Redis.
test-unit: .venv/.synced
	$(UV) run pytest -m "not stack" $(PYTEST_ARGS)

# Tessera against the conventional baseline (load/bench.py, ~7 min here): starts Kafka, Postgres
# and Redis if needed; results in load/results/<timestamp>/ (results.json, bench.png, summary.txt).
# BENCH_SECONDS, BENCH_RATES, BENCH_SYSTEMS, BENCH_SCENARIOS, BENCH_PROFILE=0 shorten or focus it.
bench: install
	$(UV) run python -m load.bench

# POST /api/v1/bookings req/s as a ratio to a granian hello-world (load/bench_ingress.py,
# ~1 min): starts Kafka, Postgres and Redis if needed. BENCH_INGRESS_ARGS passes options.
bench-ingress: install test-tools
	$(UV) run tessera up --infra-only
	$(UV) run python -m load.bench_ingress $(BENCH_INGRESS_ARGS)

lint: .venv/.synced
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

fmt: .venv/.synced
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

clean: down
	rm -rf .tessera .venv deploy/kafka/libs
