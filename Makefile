# The two commands of the README: `make run` (the local stack) and `make test` (the gate).
# Both create .venv and install into it when needed; nothing else must be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types unit install clean package

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m chalicelib.devstack $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

# Benchmarks that print figures (bench/README.md), sized to take a few minutes in all.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench.cost --participants 300
	$(BIN)/python -m bench.overhead
	$(BIN)/python -m bench.latency --events 1000
	$(BIN)/python -m bench.fanout --sizes 100,1000,3000 --waiting 5000

# `make package STAGE=prod`: the one deployable template in build/ (README "Deploying").
STAGE ?= dev
package: $(STAMP)
	$(BIN)/python -m infra.package --stage $(STAGE)

# tests/infra check the very template this packaged and cfn-lint passed.
test: export FLOWS_TEMPLATE := $(CURDIR)/build/template.json
test: lint types
	$(BIN)/python -m infra.package --stage dev
	$(BIN)/cfn-lint build/template.json
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || echo "Debian's chromium is not installed: tests/browser will skip"
	$(BIN)/python -m pytest -q

# The soak (tests/soak): 10,000 participants under injected faults; make test runs a few.
.PHONY: soak
soak: $(STAMP)
	FLOWS_SOAK_PARTICIPANTS=$${FLOWS_SOAK_PARTICIPANTS:-10000} $(BIN)/python -m pytest -q -s -m soak tests/soak

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
