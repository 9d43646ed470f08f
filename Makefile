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
# Chromium: CHROMIUM_PATH, or Debian's package; installed only where we may (root with apt-get).
browser-deps:
	@if [ -n "$$CHROMIUM_PATH" ] || command -v chromium >/dev/null 2>&1 \
		|| command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "browser-deps: installing Debian's chromium (apt-get) ..."; \
		(apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "browser-deps: chromium could not be installed: the browser tests will skip"; \
	else \
		echo "browser-deps: no Chromium, and no root/apt-get to install it: the browser tests will skip;" \
		     "install Debian's chromium, or set CHROMIUM_PATH=/path/to/chromium"; \
	fi
	@[ -f node_modules/axe-core/axe.min.js ] || npm ci --no-audit --no-fund \
		|| echo "axe-core could not be installed: the browser tests will skip"

# requirements.lock: the container's locked runtime set, from a clean virtualenv of the project
# without extras (pip freeze; the image installs it with --no-deps before copying the code).
lock:
	rm -rf build/lock-venv && python3 -m venv build/lock-venv
	build/lock-venv/bin/pip install -q .
	{ echo "# The locked runtime dependency set of the container image (Python 3.11, Linux x86_64)."; \
	  echo "# Regenerate after changing pyproject.toml's dependencies: make lock"; \
	  build/lock-venv/bin/pip freeze --exclude casusoverleg; } > requirements.lock
	rm -rf build/lock-venv

# Leaves .venv and .data (the embedded database and development keys) alone.
clean:
	find . -path ./.venv -prune -o -path ./.data -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
