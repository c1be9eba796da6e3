# Yunyi: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FRONTEND_STAMP := src/yunyi/static/app/index.html
PG_URL ?= postgres://postgres@127.0.0.1:5432/yunyi
PYTEST_WORKERS ?= 2

.PHONY: help run test test-backend test-sqlite test-postgres test-frontend test-e2e lint fmt bench \
        frontend chromium demo openapi clean

help:
	@echo "make run    set up everything, load demo data and serve http://127.0.0.1:$(PORT)"
	@echo "make test   set up and run every test (SQLite, PostgreSQL, front end, lint, browser)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make lint   ruff, mypy, migrations and OpenAPI drift, vue-tsc, eslint"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/package.json frontend/vite.config.ts -type f 2>/dev/null)

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

$(FRONTEND_STAMP): frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

frontend: $(FRONTEND_STAMP)

run: $(STAMP) $(FRONTEND_STAMP)
	YUNYI_ENV=demo $(BIN)/yunyi migrate --no-input -v 0
	YUNYI_ENV=demo $(BIN)/yunyi demo
	YUNYI_ENV=demo $(BIN)/uvicorn yunyi.config.asgi:application --host 127.0.0.1 --port $(PORT) --no-access-log

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

test: $(STAMP) $(FRONTEND_STAMP) chromium
	$(MAKE) lint
	$(MAKE) test-frontend
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) test-e2e

test-sqlite: $(STAMP)
	YUNYI_ENV=test $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not e2e" -p no:cacheprovider

test-postgres: $(STAMP)
	YUNYI_ENV=test YUNYI_DATABASE_URL=$(PG_URL) YUNYI_REDIS_URL=redis://127.0.0.1:6379/1 \
	  $(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not e2e" -p no:cacheprovider

test-e2e: $(STAMP) $(FRONTEND_STAMP) chromium
	YUNYI_ENV=test $(BIN)/pytest -q -m e2e -p no:cacheprovider

test-frontend: frontend/node_modules/.package-lock.json
	cd frontend && npx vitest run

lint: $(STAMP) frontend/node_modules/.package-lock.json
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	YUNYI_ENV=test $(BIN)/mypy
	YUNYI_ENV=test $(BIN)/yunyi makemigrations --check --dry-run
	mkdir -p var
	YUNYI_ENV=test $(BIN)/yunyi export_openapi_schema --api yunyi.config.api.api --indent 2 --sorted > var/openapi.json
	diff -u frontend/openapi.json var/openapi.json || { echo "OpenAPI schema drifted: run 'make openapi'"; exit 1; }
	cd frontend && npx vue-tsc --noEmit && npx eslint src

openapi: $(STAMP)
	YUNYI_ENV=test $(BIN)/yunyi export_openapi_schema --api yunyi.config.api.api --indent 2 --sorted > frontend/openapi.json
	cd frontend && npx openapi-typescript openapi.json -o src/types/api.d.ts

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	YUNYI_ENV=test $(BIN)/python -m bench

clean:
	rm -rf $(VENV) frontend/node_modules src/yunyi/static/app var
