# atiende — the developer interface. `make help` lists the targets.
SHELL := /bin/bash
# The first interpreter that runs and is 3.11 or newer (a pyenv shim may exist but not run).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: help setup run test lint format check bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "atiende needs Python 3.11 or newer (python3.11, python3.12, python3.13 or python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## create the virtual environment and install the locked dependencies
	@# Byte-compile our own code (the editable install does not, and PYTHONDONTWRITEBYTECODE
	@# would stop Python doing it at each start: ~0.1 s of every command).
	@$(BIN)/python -m compileall -q -j 0 atiende > /dev/null

run: setup ## start atiende on http://127.0.0.1:8000 (SQLite in ./var; ATIENDE_BIND=host:port)
	$(BIN)/atiende serve

test: setup ## run the whole test suite (DATABASE_URL=postgres://... to run it on PostgreSQL)
	@mkdir -p var; \
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating that as a failure"; exit 1; fi; \
	exit $$rc

lint: setup ## ruff lint and format check, mypy type check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: lint test ## lint, then test

bench: setup ## run the benchmarks (see docs/benchmarks.md)
	$(BIN)/python bench/run_all.py

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) var
