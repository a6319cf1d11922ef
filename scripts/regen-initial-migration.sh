#!/usr/bin/env bash
# Rebuild the initial migration from the models (only while nothing has been released).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f alembic/versions/0001_initial.py
DATABASE_URL="sqlite:///$tmp/regen.db" .venv/bin/alembic revision --autogenerate --rev-id 0001 -m "initial" >/dev/null
rm -rf "$tmp"
.venv/bin/ruff format -q alembic/versions/0001_initial.py || true
echo "alembic/versions/0001_initial.py rebuilt"
