PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,cli,bench]'
	touch $@

$(VENV)/.cli-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[cli]'
	touch $@

lint: $(VENV)/.test-installed
	$(BIN)/python -m ruff check evclient tests benchmarks
	$(BIN)/python -m mypy --strict evclient

test: lint
	$(BIN)/python -m pytest -q -W error

# One simulated hour of every brand against the built-in simulator (about 20 s).
demo: $(VENV)/.cli-installed
	$(BIN)/evclient demo

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/scheduler.py
	$(BIN)/python benchmarks/commands.py

clean:
	rm -rf $(VENV) build dist *.egg-info
