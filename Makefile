# Onramp: `make run` (the local stack) and `make test` (the whole suite) are all a developer needs.
# Both create .venv on first use; the install is redone only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLAYER := content_bucket/player/vendor/scorm12.min.js
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test bench lint clean

help:
	@echo "make run    start the local stack (AWS emulator, table, demo data, API on 127.0.0.1:8000)"
	@echo "make test   run the whole test suite (unit + integration against the live stack)"
	@echo "make bench  DynamoDB calls per route, cold start ratios"
	@echo "make lint   ruff and mypy (strict on chalicelib)"
	@echo "make clean  remove the virtualenv and caches (keeps .onramp/credentials.json)"

# A failed venv (Debian without python3-venv) must not leave a .venv that later runs take as done.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "python -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }

# chalice 1.34 does not install with pip >= 26.3: keep pip below it inside the venv.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -U 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# The player's SCORM runtime (scorm-again, pinned in content_bucket/player/package-lock.json) via npm.
$(PLAYER): content_bucket/player/package-lock.json content_bucket/player/build.sh
	bash content_bucket/player/build.sh

install: $(STAMP) $(PLAYER)

run: install
	@$(BIN)/onramp dev

# pytest exit code 5 (no tests collected) is not a failure.
test: install
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$status

bench: install
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) content_bucket/player/node_modules content_bucket/player/vendor .pytest_cache .ruff_cache .hypothesis .schemathesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
