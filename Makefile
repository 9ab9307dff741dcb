# arcwave — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

INFRA_VENV  := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed

.PHONY: setup infra-tools test lint run demo clean

## setup: create .venv when missing or stale against the requirements, install everything
setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## infra-tools: .venv-infra with checkov and the Bicep parser (apart: checkov pins its own deps)
infra-tools: $(INFRA_STAMP)

$(INFRA_STAMP): infra/requirements-checks.txt
	@test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INFRA_VENV)/bin/python -m pip install --quiet -r infra/requirements-checks.txt
	@touch $(INFRA_STAMP)

## lint: ruff, the layer contracts and the type checker
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## test: lint, then every test tier that exists
test: lint infra-tools
	$(BIN)/python -m pytest -n auto tests

## run: the demo on the local stack (emulator + devhost), live; keeps serving the API until Ctrl-C
run: setup
	$(BIN)/arcwave demo --keep-serving

## demo: the same demo; exits 0 only when the good commit succeeded and the bad one rolled back
demo: setup
	$(BIN)/arcwave demo

clean:
	rm -rf $(VENV) $(INFRA_VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
