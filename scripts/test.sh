#!/usr/bin/env bash
# Set up (with the test tools) and run every check the project has: lint, types,
# the example menus, their scenario tests and the pytest suite. Exits non-zero on any failure.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/setup.sh --dev

echo "== ruff"
.venv/bin/ruff check attendant tests bench
echo "== mypy --strict"
.venv/bin/mypy attendant
echo "== example menus validate"
.venv/bin/attendant validate menus/
echo "== example scenarios"
.venv/bin/attendant test tests/scenarios
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
