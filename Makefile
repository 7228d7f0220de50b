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

.PHONY: help venv lock run services lint format typecheck imports test-python test-frontend test test-faults \
	frontend-deps frontend-build client client-check api-lint chromium nginx fuzz test-citus screenshots

help:
	@echo "make run          install, migrate, seed the demo shop, serve http://demo.localhost:8000/"
	@echo "make test         everything CI runs: lint, typecheck, imports, test-python (+ frontend)"
	@echo "make venv         create/sync .venv from requirements.lock (no-op when up to date)"
	@echo "make lock         re-resolve requirements.lock from pyproject.toml (LOCK_FLAGS=--upgrade)"
	@echo "make services     make sure PostgreSQL and Redis are up and the database exists"
	@echo "make format       ruff check --fix, then ruff format"
	@echo "make client       regenerate the SPA's typed API client from the OpenAPI documents"
	@echo "make api-lint     lint both OpenAPI documents with Redocly and Spectral (zero warnings)"
	@echo "make fuzz         the long Schemathesis run against a live server (FUZZ_MAX_EXAMPLES=150)"
	@echo "make frontend-build   npm ci (when the lock changed) and build the SPA (when sources changed)"
	@echo "make lint | typecheck | imports | test-python   the single checks"
	@echo "make screenshots  the browser flow once, saving storefront and admin screenshots into docs/screenshots/"
	@echo "make test-faults  the fault suite at full load (Redis, PostgreSQL, workers, endpoints; minutes)"
	@echo "make test-citus   by hand, not in CI: the Citus suite against CITUS_URL (tests/citus/README.md)"

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

run: venv frontend-build nginx
	.ci/run-local

# Debian's nginx is the front `make run` serves through (.ci/serve-web): it reads
# each request whole before gunicorn's sync workers see it, so slow clients cannot
# hold them. (Debian's policy-rc.d, or the lack of an init, keeps the package's own
# service from starting; serve-web runs its own instance, unprivileged.)
nginx:
	@if [ ! -x /usr/sbin/nginx ]; then \
		echo "installing Debian's nginx, the front make run serves through"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	fi

# --- frontend ------------------------------------------------------------------

FRONTEND := frontend
NODE_MODULES := $(FRONTEND)/node_modules/.storefleet-installed
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/storefront $(FRONTEND)/admin -type f 2>/dev/null) \
	$(FRONTEND)/vite.config.ts $(FRONTEND)/package-lock.json
OPENAPI_DIR := var/openapi

frontend-deps: $(NODE_MODULES)

# npm ci only when package-lock.json changed (or node_modules is missing).
$(NODE_MODULES): $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20.19+ and npm are required (apt-get install nodejs npm)"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend-build: $(FRONTEND)/dist/.built

# Rebuilt only when a source, the config or the lock changed.
$(FRONTEND)/dist/.built: $(FRONTEND_SOURCES) $(NODE_MODULES)
	cd $(FRONTEND) && npm run --silent build
	touch $@

# The OpenAPI documents of both URL confs, written without a server.
$(OPENAPI_DIR): venv
	mkdir -p $(OPENAPI_DIR)
	STOREFLEET_LOCAL=1 $(BIN)/python manage.py spectacular --urlconf config.urls_public \
		--format openapi-json --validate --file $(OPENAPI_DIR)/platform.json
	STOREFLEET_LOCAL=1 $(BIN)/python manage.py spectacular --urlconf config.urls_tenant \
		--format openapi-json --validate --file $(OPENAPI_DIR)/shop.json
.PHONY: $(OPENAPI_DIR)

client: $(OPENAPI_DIR) $(NODE_MODULES)
	cd $(FRONTEND) && node scripts/generate-client.mjs ../$(OPENAPI_DIR)/platform.json ../$(OPENAPI_DIR)/shop.json

client-check: $(OPENAPI_DIR) $(NODE_MODULES)
	cd $(FRONTEND) && node scripts/generate-client.mjs --check ../$(OPENAPI_DIR)/platform.json ../$(OPENAPI_DIR)/shop.json

# Both documents through stock linters, offline: Redocly's recommended rules (warnings
# fail too) and Spectral's OpenAPI rules, each with zero errors and zero warnings.
api-lint: $(OPENAPI_DIR) $(NODE_MODULES)
	cd $(FRONTEND) && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		npx --no-install redocly lint --config ../redocly.yaml ../$(OPENAPI_DIR)/platform.json ../$(OPENAPI_DIR)/shop.json
	cd $(FRONTEND) && npx --no-install spectral lint --ruleset ../.spectral.yaml --fail-severity=warn \
		../$(OPENAPI_DIR)/platform.json ../$(OPENAPI_DIR)/shop.json

# Debian's Chromium drives the browser test (playwright-core never downloads one).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# --- checks --------------------------------------------------------------------

# The long Schemathesis run (tests/test_contract_fuzz.py with a larger budget; `make test`
# runs the same with FUZZ_MAX_EXAMPLES=10). Reports in test-artifacts/fuzz/.
FUZZ_MAX_EXAMPLES ?= 150
fuzz: venv
	.ci/services
	$(SERVICES_ENV) STOREFLEET_TESTING=1 FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) \
		$(BIN)/pytest tests/test_contract_fuzz.py -q -p no:cacheprovider -s

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

test-python: venv nginx
	$(SERVICES_ENV) STOREFLEET_TESTING=1 $(BIN)/pytest $(PYTEST_ARGS)

# tests/faults at full load and length (make test runs its quick form); prints the figures.
test-faults: venv
	.ci/services
	$(SERVICES_ENV) STOREFLEET_TESTING=1 FAULTS_FULL=1 $(BIN)/pytest tests/faults -q -s -p no:cacheprovider $(PYTEST_ARGS)

# By hand, never in CI (CI cannot build Citus): a coordinator with two workers,
# set up as tests/citus/README.md says, at CITUS_URL.
test-citus: venv
	@test -n "$${CITUS_URL:-}" || { echo "Set CITUS_URL to the Citus coordinator's database (tests/citus/README.md)."; exit 2; }
	STOREFLEET_TESTING=1 DATABASE_URL="$$CITUS_URL" $(BIN)/pytest tests/citus -v -s -p no:cacheprovider $(PYTEST_ARGS)

# The SPA: generated client up to date, tsc, ESLint, Vitest, the build and the
# storefront's first-load JS budget, then the browser flow (tests/e2e: .ci/serve-web,
# i.e. nginx, gunicorn and uvicorn, and a worker on free ports, Chromium headless,
# axe-core on every page it visits) and Lighthouse's mobile profile on home, a product
# and the cart (floors in frontend/e2e/lighthouse.mjs; scores in
# test-artifacts/e2e/lighthouse.json).
test-frontend: venv chromium nginx
	$(MAKE) --no-print-directory client-check
	$(MAKE) --no-print-directory api-lint
	cd $(FRONTEND) && npx tsc --noEmit
	cd $(FRONTEND) && npx eslint --max-warnings=0 .
	cd $(FRONTEND) && npx vitest run
	$(MAKE) --no-print-directory frontend-build
	cd $(FRONTEND) && npm run --silent budget
	$(SERVICES_ENV) STOREFLEET_TESTING=1 STOREFLEET_E2E=1 $(BIN)/pytest tests/e2e -q -p no:cacheprovider

# The screenshots in docs/screenshots.md: the browser flow (tests/e2e) run once
# against a fresh shop, saving storefront home, product, cart, checkout and the
# admin dashboard at desktop and phone sizes into docs/screenshots/.
screenshots: venv chromium
	.ci/services
	$(MAKE) --no-print-directory frontend-build
	$(SERVICES_ENV) STOREFLEET_TESTING=1 STOREFLEET_E2E=1 SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots \
		$(BIN)/pytest tests/e2e -q -p no:cacheprovider

# Every check runs even when an earlier one fails (--keep-going), so one CI run
# reports all problems; the exit status is non-zero if any failed.
test: venv
	.ci/services
	$(MAKE) --no-print-directory --keep-going lint typecheck imports test-python test-frontend
