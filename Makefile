# arcwave — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

INFRA_VENV  := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed

.PHONY: setup infra-tools test lint run demo clean

## setup: create .venv when missing or stale against the locks, install everything from them
## (requirements-dev.txt holds the runtime lock's pins; pip, setuptools and wheel are locked too)
setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## lock: resolve the hand-edited requirements*.in into the locks with hashes (needs the network);
## keeps every pin that still fits; to move one: make lock LOCK_ARGS="--upgrade-package NAME"
UV_COMPILE = $(BIN)/python -m uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: lock
lock: setup
	$(UV_COMPILE) requirements.in -o requirements.txt
	$(UV_COMPILE) requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) infra/requirements-checks.in -o infra/requirements-checks.txt

## infra-tools: .venv-infra with checkov and the Bicep parser (apart: checkov pins its own deps)
infra-tools: $(INFRA_STAMP)

$(INFRA_STAMP): infra/requirements-checks.txt
	@test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --require-hashes -r infra/requirements-checks.txt
	@touch $(INFRA_STAMP)

## lint: ruff, the layer contracts and the type checker
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## test: lint, then every test tier that exists, the short chaos run among them
## (tests/chaos/test_chaos.py: one run of 60 clusters, 4 devhost kills, every fault kind),
## a smoke-size run of every bench (tests/bench/) and the dashboard's browser tests in
## Debian's Chromium (tests/browser/)
test: lint infra-tools browser-deps axe
	$(BIN)/python -m pytest -n auto tests

## browser-deps: Debian's Chromium and chromedriver for the dashboard's browser tests (tests/browser/),
## installed with apt-get when either is missing (as root, as on CI)
.PHONY: browser-deps
browser-deps:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

## axe: axe-core from the npm registry into tests/browser/axe (the accessibility checks inject it)
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
.PHONY: axe
axe: $(AXE)

$(AXE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	cd tests/browser/axe && npm ci --no-audit --no-fund --loglevel=error
	@touch $(AXE)

## browser: the dashboard's browser tests alone, in headless Chromium
.PHONY: browser
browser: setup browser-deps axe
	$(BIN)/python -m pytest -n auto tests/browser

## screenshots: the dashboard on the local stack, as PNGs for the docs (docs/images/dashboard-*.png)
.PHONY: screenshots
screenshots: setup browser-deps
	$(BIN)/python -m tests.browser.screenshots docs/images

## chaos: the chaos and fault suite at its default size (docs/reliability.md): 4 runs of 200
## clusters, 30 devhost kills; prints the seed; CHAOS_ARGS="--seed N" replays a run; exit 1 on
## any broken promise
.PHONY: chaos
chaos: setup
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

## fuzz: the full fuzz run (docs/reliability.md): at least 10,000 generated requests over every
## operation of the API's OpenAPI document and every webhook provider, against a live stack;
## the figures go to build/fuzz-report.json (`make test` runs the same modules, smaller)
.PHONY: fuzz
fuzz: setup
	@mkdir -p build && rm -f build/fuzz-report.json
	ARCWAVE_FUZZ=full ARCWAVE_FUZZ_REPORT=build/fuzz-report.json $(BIN)/python -m pytest -p no:xdist \
		tests/e2e/test_openapi_fuzz.py tests/e2e/test_webhook_fuzz.py tests/e2e/test_fuzz.py

## bench: every benchmark in bench/ at full size (docs/performance.md), one after another: one
## table of figure, target, result and pass/fail, also written to build/bench.json; exit 1 when
## a bench did not run or a figure missed its target; BENCH_ARGS="--only rollout_scale" runs
## only that one, BENCH_ARGS="--size smoke" runs all of them small (their numbers mean nothing)
.PHONY: bench
bench: setup
	$(BIN)/python -m bench --json build/bench.json $(BENCH_ARGS)

## run: the demo on the local stack (emulator + devhost), live; keeps serving the API until Ctrl-C
run: setup
	$(BIN)/arcwave demo --keep-serving

## demo: the same demo; exits 0 only when the good commit succeeded and the bad one rolled back
demo: setup
	$(BIN)/arcwave demo

clean:
	rm -rf $(VENV) $(INFRA_VENV) build .pytest_cache .ruff_cache .mypy_cache .hypothesis
