# The three fixed entry points: `make run`, `make test`, `make bench`. Each works from a fresh
# clone: it installs uv (via pip) if missing, syncs the locked workspace, then runs.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_LINK_MODE ?= copy

.PHONY: setup run test test-unit test-localstack test-compose bench lint format clean

setup:
	@bash scripts/bootstrap.sh

run: setup
	$(UV) run --frozen iris-stack run

# Every tier, each timed (scripts/test-tiers.sh); IRIS_TEST_TIERS="unit localstack" picks some.
test: setup
	@bash scripts/test-deps.sh
	@bash scripts/test-tiers.sh

test-unit: setup
	@bash scripts/test-deps.sh
	@IRIS_TEST_TIERS=unit bash scripts/test-tiers.sh

test-localstack: setup
	@bash scripts/test-deps.sh
	@IRIS_TEST_TIERS=localstack bash scripts/test-tiers.sh

test-compose: setup
	@IRIS_TEST_TIERS=compose bash scripts/test-tiers.sh

bench: setup
	$(UV) run --frozen python -m bench $(BENCH)

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: setup
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

clean:
	rm -rf .venv var .pytest_cache
