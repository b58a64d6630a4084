# Two entry points for a fresh clone (see README):
#   make run    set up .venv and run the Kazakhstan 2022 baseline against its counterfactuals
#   make test   set up .venv (and Debian's chromium for the browser tests), check lint,
#               format, import layers and types, run the test suite (what .ci/run runs)
# `make setup` only builds the venv. The venv is built from the Python that pyenv selects
# through .python-version (3.12+).

PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "influence-sim needs Python >= 3.12; pyenv reads .python-version")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,app,explore]'
	@touch $(STAMP)

# the browser tests (tests/test_app.py) drive Debian's Chromium; Playwright cannot download
# its own browser here
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "make: the browser tests need Debian's chromium ($(CHROMIUM)); as root run: apt-get update && apt-get install -y chromium" >&2; \
		exit 1; \
	fi

setup: $(STAMP) browser

# the main job: the Kazakhstan 2022 experiment (baseline against its counterfactuals), then
# what came after (2022-2025: the invasion of Ukraine against no invasion: flows and votes),
# then what drives the CSTO effect, then what the pre-2022 evidence allows and the
# counterfactuals over it; rerunning completes an interrupted batch and reuses a finished one
EXPERIMENT := scenarios/experiments/kazakhstan_2022.toml
RESULTS := results/kazakhstan_2022
AFTER := scenarios/experiments/ukraine_war_2022.toml
AFTER_RESULTS := results/ukraine_war_2022
# what drives the CSTO intervention's effect (Morris screening), stored under the main
# results so that their report has a "what drives the conclusions" section, and where the seed
# article's conclusion fails (PRIM)
SENSITIVITY := scenarios/experiments/kazakhstan_2022_sensitivity.toml
# the 2022-25 run scored against 2022's held-out observations, beside persistence and trend
HELD_OUT := influence_sim/data/targets/central_asia_2022.toml
TRAINING := influence_sim/data/targets/central_asia_pre2022.toml
SENSITIVITY_RESULTS := $(RESULTS)/sensitivity/morris
# the evidence: history matching near the defaults to the pre-2022 targets, then the
# experiment again over the non-implausible points (the report's "Evidence" section)
CALIBRATION := scenarios/experiments/kazakhstan_2022_sensitivity_near_defaults.toml
CALIBRATION_RESULTS := $(RESULTS)/calibration
CALIBRATED_RESULTS := $(RESULTS)/calibrated

run: $(STAMP)
	$(BIN)/influence-sim batch $(EXPERIMENT) --out $(RESULTS) --resume
	$(BIN)/influence-sim compare $(RESULTS)
	$(BIN)/influence-sim batch $(AFTER) --out $(AFTER_RESULTS) --resume
	$(BIN)/influence-sim compare $(AFTER_RESULTS)
	$(BIN)/influence-sim score $(AFTER_RESULTS) --targets $(HELD_OUT) --training $(TRAINING)
	$(BIN)/influence-sim report $(AFTER_RESULTS)
	$(BIN)/influence-sim sensitivity $(SENSITIVITY) --method morris --n 20 --out $(SENSITIVITY_RESULTS) --resume
	$(BIN)/influence-sim discover $(SENSITIVITY_RESULTS) --conclusion russia_gained_across_region
	$(BIN)/influence-sim calibrate $(CALIBRATION) --targets $(TRAINING) --out $(CALIBRATION_RESULTS) --resume
	$(BIN)/influence-sim batch $(EXPERIMENT) --inputs $(CALIBRATION_RESULTS)/non_implausible.csv --out $(CALIBRATED_RESULTS) --resume
	$(BIN)/influence-sim compare $(CALIBRATED_RESULTS)
	$(BIN)/influence-sim report $(RESULTS)

# static checks, in order: lint, formatting, the import-layer contract, types
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# the suite on both cores; a test file's tests stay together in one worker (--dist loadfile),
# so the browser tests share one app server and no two Dask tests of a file overlap
test: lint browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) results
