# Ventanilla — two commands for a new machine: `make demo` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(CURDIR)/data
ENV_FILE := $(DATA_DIR)/demo.env
PORT ?= 8000
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help demo fake-gateway test install install-test assets messages chromium lint fmt check bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets messages ## create the virtualenv and install the app

install-test: $(VENV)/.installed-test assets messages chromium

assets: ## copy front-end packages from the npm registry into static files
	@test -d node_modules/htmx.org -a -d node_modules/leaflet -a -d node_modules/chart.js || npm install --no-audit --no-fund --silent
	@mkdir -p src/ventanilla/static/vendor/leaflet
	@cp node_modules/htmx.org/dist/htmx.min.js src/ventanilla/static/vendor/htmx.min.js
	@cp node_modules/chart.js/dist/chart.umd.js node_modules/chart.js/dist/chart.umd.js.map src/ventanilla/static/vendor/
	@cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images src/ventanilla/static/vendor/leaflet/

messages: | $(BIN)/python ## compile translation catalogues
	@cd src/ventanilla && $(CURDIR)/$(BIN)/django-admin compilemessages --ignore '*/site-packages/*' -v 0

chromium: ## Debian's Chromium for the browser tests
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

demo: install ## install, migrate, load demo data and serve on http://127.0.0.1:$(PORT)
	@$(BIN)/ventanilla init-env $(ENV_FILE) --data-dir $(DATA_DIR)
	@set -a && source $(ENV_FILE) && set +a && \
	  $(BIN)/ventanilla migrate --no-input -v 0 && \
	  $(BIN)/ventanilla collectstatic --no-input -v 0 && \
	  $(BIN)/ventanilla load-demo && \
	  echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)" && \
	  (trap 'kill 0' EXIT; $(BIN)/ventanilla beat >/dev/null 2>&1 & PORT=$(PORT) $(BIN)/ventanilla serve --workers 2)

fake-gateway: ## the demo's fake SMS/WhatsApp gateway on http://127.0.0.1:8025 (beside a running `make demo`)
	@set -a && source $(ENV_FILE) && set +a && \
	  $(BIN)/ventanilla fake-gateway --app http://127.0.0.1:$(PORT)

lint: $(VENV)/.installed-test ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src

fmt: $(VENV)/.installed-test ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: $(VENV)/.installed-test messages ## migrations and translation catalogues are current
	DJANGO_SETTINGS_MODULE=ventanilla.settings_test $(BIN)/ventanilla makemigrations --check --dry-run
	$(BIN)/python scripts/check_messages.py

test: install-test lint check ## everything: lint, types, checks, the whole suite with coverage
	$(BIN)/pytest -p no:cacheprovider --cov --cov-report=term $(PYTEST_ARGS)

bench: install-test ## run the benchmarks; JSON results in benchmarks/results/
	$(BIN)/python benchmarks/run.py

clean: ## remove the virtualenv, data and caches
	rm -rf $(VENV) data node_modules src/ventanilla/static/vendor .coverage .mypy_cache .ruff_cache
