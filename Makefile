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

# Several workers: WORKERS uvicorn processes share HOST:PORT, on PostgreSQL, with Redis carrying
# the live rooms between them. The database is created when missing, then migrated and seeded.
# (Not target-specific "DATABASE_URL ?= ...": in GNU make that stops DATABASE_URL from the
# environment reaching every recipe, `make test` on PostgreSQL included.)
CLUSTER_DATABASE_URL = $(or $(DATABASE_URL),postgresql://postgres@127.0.0.1:5432/clockevents)
CLUSTER_REDIS_URL = $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
WORKERS ?= 2
run-cluster: $(VENV)/.installed  ## WORKERS (2) workers behind HOST:PORT on PostgreSQL and Redis
	$(BIN)/python -c "$$CREATE_DATABASE" "$(CLUSTER_DATABASE_URL)"
	DATABASE_URL="$(CLUSTER_DATABASE_URL)" REDIS_URL="$(CLUSTER_REDIS_URL)" HOST=$(HOST) PORT=$(PORT) \
		$(BIN)/clockevents run --workers $(WORKERS)

define CREATE_DATABASE
import asyncio, sys
import asyncpg
from sqlalchemy.engine import make_url
from clockevents.settings import same_server_url
name = make_url(sys.argv[1]).database
admin = same_server_url(sys.argv[1], "postgres", driver="postgresql")
async def main():
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $$1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    finally:
        await conn.close()
asyncio.run(main())
endef
export CREATE_DATABASE

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
