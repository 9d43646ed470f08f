# Every target sets itself up on a fresh machine: the virtualenv is (re)built from pyproject.toml.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
PY    := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: venv run test bench clean browser-deps lock

venv: $(STAMP)

$(PY):
	@echo "make venv: creating the virtualenv in $(VENV) ..."
	python3 -m venv $(VENV)

# Re-install when the dependencies change; the stamp records the last successful install.
$(STAMP): pyproject.toml | $(PY)
	@echo "make venv: installing the dependencies of pyproject.toml (first time: about a minute) ..."
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install --progress-bar off -e '.[dev,embedded]' \
		| awk '/^Collecting/ {print "  collecting " $$2; fflush()} \
		       /^Successfully installed/ {print "  installed " NF-2 " packages"}'; \
		test $${PIPESTATUS[0]} -eq 0
	@touch $@
	@echo "make venv: done ($(VENV)/bin/casusoverleg is ready)"

run: venv
	$(BIN)/casusoverleg serve

test: venv browser-deps
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy app
	$(BIN)/lint-imports
	$(BIN)/vulture
	@if [ -x $(BIN)/hadolint ]; then $(BIN)/hadolint Dockerfile && echo "hadolint: Dockerfile clean"; \
	else echo "hadolint is not installed: tests/test_container.py checks the Dockerfile instead"; fi
	$(BIN)/pytest -q

# Every benchmark, quick runs, one table (figure, bare baseline of the same run, ratio, goal).
# `$(PY) -m bench --full` for the long runs, `$(PY) -m bench NAME` for one.
bench: venv
	$(PY) -m bench

# The browser tests' set-up: Debian's chromium and axe-core (npm). Without them the browser
# tests skip and say why; the rest of the suite runs regardless.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed: the browser tests will skip"
	@[ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund \
		|| echo "axe-core could not be installed: the browser tests will skip"

# Leaves .venv and .data (the embedded database and development keys) alone.
clean:
	find . -path ./.venv -prune -o -path ./.data -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
