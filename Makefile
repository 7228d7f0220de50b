# Storefleet developer commands. The two that matter:
#   make run    install what is missing, migrate, seed the demo shop, serve (Ctrl-C stops)
#   make test   everything CI runs
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
# Where .ci/services records servers it started away from the default address.
SERVICES_ENV := if [ -f var/services.env ]; then . var/services.env; fi;

.PHONY: help venv lock run services lint format typecheck imports test-python test-frontend test

help:
	@echo "make run          install, migrate, seed the demo shop, serve http://demo.localhost:8000/"
	@echo "make test         everything CI runs: lint, typecheck, imports, test-python (+ frontend)"
	@echo "make venv         create/sync .venv from requirements.lock (no-op when up to date)"
	@echo "make lock         re-resolve requirements.lock from pyproject.toml (LOCK_FLAGS=--upgrade)"
	@echo "make services     make sure PostgreSQL and Redis are up and the database exists"
	@echo "make format       ruff check --fix, then ruff format"
	@echo "make lint | typecheck | imports | test-python   the single checks"

# --- environment ---------------------------------------------------------------

venv: $(VENV)/.synced

# The interpreter and the pinned uv; re-done only when UV_VERSION changes.
$(VENV)/.uv-$(UV_VERSION):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "Python 3.11 is required: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	rm -f $(VENV)/.uv-*
	touch $@

# The packages; re-synced only when requirements.lock changes.
$(VENV)/.synced: requirements.lock | $(VENV)/.uv-$(UV_VERSION)
	$(BIN)/uv pip sync --compile-bytecode --python $(BIN)/python requirements.lock
	touch $@

LOCK_FLAGS ?=
lock: | $(VENV)/.uv-$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 $(LOCK_FLAGS) -o requirements.lock

services:
	.ci/services

# --- running -------------------------------------------------------------------

run: venv
	.ci/run-local

# --- checks --------------------------------------------------------------------

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The django-stubs plugin imports config.settings, which wants SECRET_KEY unless local.
typecheck: venv
	STOREFLEET_LOCAL=1 $(BIN)/mypy .

imports: venv
	$(BIN)/lint-imports --no-logo

test-python: venv
	$(SERVICES_ENV) STOREFLEET_TESTING=1 $(BIN)/pytest $(PYTEST_ARGS)

# Frontend checks (tsc --noEmit, ESLint, Vitest, Playwright) go here; `test` already
# runs this target.
test-frontend:
	@echo "test-frontend: no frontend checks wired yet"

# Every check runs even when an earlier one fails (--keep-going), so one CI run
# reports all problems; the exit status is non-zero if any failed.
test: venv
	.ci/services
	$(MAKE) --no-print-directory --keep-going lint typecheck imports test-python test-frontend
