# reviewhoard: every target works on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FIXTURES ?= $(if $(REVIEW_FIXTURES),$(REVIEW_FIXTURES),../shared/fixtures)
export REVIEW_FIXTURES := $(abspath $(FIXTURES))

.PHONY: setup system test lint format bench demo lock clean

setup: $(STAMP)

# The lock pins every package with hashes; the project itself goes in editable, without deps.
$(STAMP): requirements.lock pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Debian packages the tests use for real (wget, chromium, redis-server), installed when missing.
system:
	scripts/system-packages

# Lint first: a tree that is not ruff- and mypy-clean does not pass.
test: setup system lint
	$(BIN)/python -m pytest -n 2 -q tests

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m benchmarks

demo: setup
	$(BIN)/python -m reviewhoard.hoard.demo

# Refresh the lock after changing pyproject.toml dependencies.
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
