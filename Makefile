# AlmenKompas workbook. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
DATA := data/synthetic

.PHONY: help setup data run table test lint format env serve lab bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dask]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3
	touch $(STAMP)

# axe-core (the accessibility checks in the browser tests) comes from npm, pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP) ## Create .venv and node_modules/ and install everything

$(DATA)/provenance.json: | $(STAMP)
	$(BIN)/kompas data synthesize

data: $(DATA)/provenance.json ## Generate the synthetic default dataset (when missing)

run: setup data ## Set up, then run the main job on the default data
	$(BIN)/kompas run --all

table: setup data ## Compute the whole indicator table into outputs/
	$(BIN)/kompas table --out outputs/indicators.parquet

test: setup data ## Set up, then run lint and all tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tools.hygiene templates notebooks
	$(BIN)/pytest

lint: setup ## Lint only
	$(BIN)/ruff check .

format: setup ## Format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

env: setup ## Write environment.yml (conda) from the dependencies in pyproject.toml
	$(BIN)/python -m tools.environment

serve: setup data ## Serve the Voilà pages on 127.0.0.1 (PORT=8866, add TOKEN=... to require a token)
	$(BIN)/kompas serve --port $(or $(PORT),8866) $(if $(TOKEN),--token $(TOKEN))

# JupyterLab refuses to start as root unless told; a container or a CI machine often runs as root.
lab: setup data ## Open JupyterLab on the project (templates/, notebooks/, outputs/) with its environment
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

bench: setup data ## Run the benchmarks
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_table.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_run.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_voila.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_excel.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_dask.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_fork.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_voila_readers.py --only fork
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_papers.py

clean: ## Remove generated data and outputs (keeps .venv)
	rm -rf $(DATA) outputs/[0-9]* outputs/*.parquet
