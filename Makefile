# grove: `make quickstart` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: install quickstart test lint typecheck layers unit golden bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

quickstart: install
	$(VENV)/bin/grove quickstart

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: install
	$(VENV)/bin/mypy

layers: install
	$(VENV)/bin/lint-imports

unit: install
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup

test: lint typecheck layers unit

# Rewrite the Druid SQL golden files (tests/golden/sql) from what grove answers now; review the diff.
golden: install
	$(PY) tests/golden/sql/regen.py

bench: install
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
