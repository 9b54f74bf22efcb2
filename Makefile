# Songda — `make run` starts the system, `make test` proves it. See README.md.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
SONGDA := $(VENV)/bin/songda
STAMP  := $(VENV)/.installed
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: install run up down demo test check test-unit test-integration test-e2e test-browser bench bench-pipeline bench-lookup bench-delivery bench-delivery-steps bench-carrier bench-evidence bench-workdays clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Debian: apt-get install python3.11 python3.11-venv)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(SONGDA) run

up: install
	$(SONGDA) up

demo: install
	$(SONGDA) demo

down:
	@if [ -x $(SONGDA) ]; then $(SONGDA) down; fi

test: install check
	bash deploy/with-infra.sh $(MAKE) --no-print-directory test-unit test-integration test-e2e test-browser

# Lint, format and types over the product and its tests (configured in pyproject.toml).
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-unit: install
	$(PYTEST) tests/unit -q

test-integration: install
	$(PYTEST) tests/integration -q

test-e2e: install
	$(PYTEST) tests/e2e -q

# The console in Debian's Chromium (/usr/bin/chromium; Playwright never downloads a browser here); screenshots in tests/browser/screenshots.
test-browser: install
	$(PYTEST) tests/browser -q

# Every benchmark at a size that keeps the whole under ten minutes; the summary in var/bench/summary.md (docs/benchmarks.md).
bench: install
	bash deploy/with-infra.sh $(PY) bench/suite.py

bench-pipeline: install
	bash deploy/with-infra.sh $(PY) bench/pipeline.py

bench-lookup: install
	bash deploy/with-infra.sh $(PY) bench/address_lookup.py

bench-delivery: install
	bash deploy/with-infra.sh $(PY) bench/delivery.py

bench-carrier: install
	bash deploy/with-infra.sh $(PY) bench/carrier.py

bench-evidence: install
	bash deploy/with-infra.sh $(PY) bench/evidence.py

bench-workdays: install
	$(PY) bench/workdays.py

bench-delivery-steps: install
	bash deploy/with-infra.sh $(PY) bench/delivery_steps.py

clean:
	bash deploy/kafka/stop.sh; bash deploy/postgres/stop.sh; rm -rf var
