PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Home Assistant 2025.x needs Python 3.13: from PATH, else from pyenv.
PY_HA ?= $(shell for py in $(HOME)/.pyenv/versions/3.13*/bin/python python3.13; do \
	  $$py -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && echo $$py && break; done)
HA_VENV := .venv-ha

.PHONY: test test-ha test-peers peers ha-package demo bench lint docs clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,cli,bench,cardata,simulator]'
	touch $@

$(VENV)/.cli-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[cli,cardata,simulator]'
	touch $@

lint: $(VENV)/.test-installed
	$(BIN)/python -m ruff check evclient tests benchmarks examples
	$(BIN)/python -m mypy --strict evclient

test: lint peers
	EVCLIENT_PEERS=$(PEERS_DIR) $(BIN)/python -m pytest -q -W error
	$(MAKE) test-ha

# Third-party clients, each in its own virtual environment, cached outside the checkout so a second
# run (and a fresh clone on the same machine) builds nothing. tests/test_peers.py runs them against
# `evclient simulator`. A requirements file whose first line is "# python: 3.13" gets Home Assistant's Python.
PEERS_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/evclient/peers
# Rebuilt only when a requirements file's content differs from the one the environment was built from
# (a fresh clone's new file times alone rebuild nothing).
peers:
	@for req in tests/peers/requirements-*.txt; do \
	  name=$${req#tests/peers/requirements-}; name=$${name%.txt}; dir="$(PEERS_DIR)/$$name"; \
	  py="$(PY)"; if grep -q '^# python: 3.13' "$$req"; then py="$(PY_HA)"; fi; \
	  if [ -z "$$py" ]; then echo "$$name needs Python 3.13 (python3.13 or pyenv)"; exit 1; fi; \
	  if ! cmp -s "$$req" "$$dir/.installed"; then \
	    echo "building $$name in $$dir"; \
	    rm -rf "$$dir" && $$py -m venv "$$dir" && "$$dir/bin/python" -m pip install -q --upgrade pip \
	      && "$$dir/bin/python" -m pip install -q -r "$$req" && cp "$$req" "$$dir/.installed" || exit 1; \
	  fi; \
	done

# Only the third-party clients against the simulator.
test-peers: $(VENV)/.test-installed peers
	EVCLIENT_PEERS=$(PEERS_DIR) $(BIN)/python -m pytest -q -W error tests/test_peers.py

$(HA_VENV)/.installed: examples/homeassistant/requirements.txt pyproject.toml
	@test -n "$(PY_HA)" || { echo "test-ha needs Python 3.13 for Home Assistant (python3.13 or pyenv)"; exit 1; }
	$(PY_HA) -m venv $(HA_VENV)
	$(HA_VENV)/bin/python -m pip install -q --upgrade pip
	$(HA_VENV)/bin/python -m pip install -q -r examples/homeassistant/requirements.txt -e '.[cardata,simulator]'
	touch $@

# The Home Assistant example's types (mypy --strict against Home Assistant's), then its tests, inside Home
# Assistant, in its own virtual environment, with the
# integration's line coverage held above 95 % (the quality scale's test-coverage rule; Python's sys.monitoring
# makes measuring it cost next to nothing).
test-ha: $(HA_VENV)/.installed
	cd examples/homeassistant && ../../$(HA_VENV)/bin/python -m mypy --strict --python-version 3.13 \
		custom_components/evclient
	cd examples/homeassistant && COVERAGE_CORE=sysmon ../../$(HA_VENV)/bin/python -m pytest -q \
		--cov=custom_components.evclient --cov-report=term-missing:skip-covered --cov-fail-under=95

# The Home Assistant integration laid out as HACS expects a repository (dist/hacs/).
ha-package:
	$(PY) examples/homeassistant/package.py dist/hacs

# One simulated hour of every brand against the built-in simulator (about 20 s).
demo: $(VENV)/.cli-installed
	$(BIN)/evclient demo

# Every benchmark, then one table of figures against their targets (about 20 minutes; QUICK=1: 2 minutes).
# The API reference, from the docstrings (extra `docs`): offline, warnings as errors; tests/test_docs.py builds it too.
API_MODULES := $(shell $(PY) -c "import sys; sys.path.insert(0, 'docs'); import api_modules; print(' '.join(api_modules.MODULES))" 2>/dev/null)
docs: $(VENV)/.test-installed
	$(BIN)/python -W error -m pdoc $(API_MODULES) -o build/docs
	@echo "the API reference is in build/docs/index.html"

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/summary.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) $(HA_VENV) build dist *.egg-info
