# Every target bootstraps what it needs: a fresh machine needs only python3 (and apt for promtool).
SHELL := /bin/bash
PYTHON ?= python3
# uv runs as a module of python3, installed on first use (per user, or system-wide as a fallback).
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
AWSCLI_VENV := .venv-awscli

.PHONY: all demo test lint types unit tools bench bench-smoke fmt clean

all: test

.PHONY: uv
uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv \
		|| $(PYTHON) -m pip install --quiet uv

$(BIN)/leftovers: pyproject.toml uv.lock | uv
	$(UV) sync --frozen --quiet
	@touch $@

# The aws CLI pins its own botocore, so it lives in a virtualenv of its own.
$(AWSCLI_VENV)/bin/aws: tests/awscli-requirements.txt | uv
	$(UV) venv --quiet --allow-existing $(AWSCLI_VENV)
	$(UV) pip install --quiet --python $(AWSCLI_VENV)/bin/python -r tests/awscli-requirements.txt
	@touch $@

# promtool and amtool come with Debian's prometheus and prometheus-alertmanager packages;
# chromium with Debian's chromium package.
tools: $(AWSCLI_VENV)/bin/aws
	@command -v promtool >/dev/null && command -v amtool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null; }
	@# The browser tests drive Debian's chromium through Playwright (its own download needs the network).
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

lint: $(BIN)/leftovers
	$(BIN)/ruff check scanner emulator tests bench
	$(BIN)/ruff format --check scanner emulator tests bench

# mypy --strict over scanner, emulator, tests and bench (the packages in pyproject.toml).
types: $(BIN)/leftovers
	$(BIN)/mypy

unit: $(BIN)/leftovers tools
	PATH="$(CURDIR)/$(BIN):$$PATH" AWS_CLI="$(CURDIR)/$(AWSCLI_VENV)/bin/aws" $(BIN)/pytest $(PYTEST_ARGS)
	@echo "Browser screenshots (tests/ui/test_browser.py): $(CURDIR)/test-artifacts/screenshots/"

test: lint types unit

fmt: $(BIN)/leftovers
	$(BIN)/ruff check --fix scanner emulator tests bench
	$(BIN)/ruff format scanner emulator tests bench

demo: $(BIN)/leftovers
	$(BIN)/python -m scanner.demo

bench: $(BIN)/leftovers tools
	AWS_CLI="$(CURDIR)/$(AWSCLI_VENV)/bin/aws" $(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(AWSCLI_VENV) .mypy_cache .ruff_cache
