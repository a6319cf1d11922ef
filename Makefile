# The two commands of the README: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test bench lint format migrate demo run-cluster clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed (set PYTHON=...)" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

run: $(VENV)/.installed  ## migrate the SQLite file, seed the demo when empty, serve on HOST:PORT
	HOST=$(HOST) PORT=$(PORT) $(BIN)/clockevents run

test: $(VENV)/.installed-dev  ## lint, then the whole suite (SQLite; set DATABASE_URL for PostgreSQL)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev  ## benchmarks (need ../shared/benchmarks for the scheduler)
	$(BIN)/python -m tests.bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(VENV)/.installed
	$(BIN)/clockevents migrate

demo: $(VENV)/.installed
	$(BIN)/clockevents demo

clean:
	rm -rf $(VENV) var .pytest_cache
