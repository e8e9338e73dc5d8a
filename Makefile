# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
PYTEST_FLAGS ?=

.PHONY: run test install system-deps frontend lint typecheck pytest pytest-postgres audit clean

# A studio on this machine may talk to an Ollama server on this machine (see README).
run: export MODEL_PRIVATE_HOSTS ?= 127.0.0.1:11434,localhost:11434
run: install frontend
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py ensure_admin
	$(BIN)/daphne -b 127.0.0.1 -p 8000 studio.asgi:application

test: install system-deps frontend lint typecheck pytest pytest-postgres

install: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Roundtable needs Python 3.11 or newer (found $$($(PYTHON) --version))."; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# redis-server (distributed tests) and Chromium (browser tests) come from the system.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing system packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "Missing system packages:$$missing. Install them with: sudo apt-get install$$missing"; exit 1; \
		fi; \
	fi

frontend: static/dist/.built

static/dist/.built: $(shell find frontend -type f -not -path '*/node_modules/*' 2>/dev/null)
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ (apt-get install nodejs npm)."; exit 1; }
	cd frontend && npm install --no-audit --no-fund --silent && npm run build --silent
	touch $@

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

pytest: install
	env -u DATABASE_URL $(BIN)/pytest --cov --cov-report=term $(PYTEST_FLAGS)

# The same suite against PostgreSQL when DATABASE_URL points at one.
pytest-postgres: install
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then \
		echo "Running the database tests on $${DATABASE_URL%%@*}@…"; \
		$(BIN)/pytest tests/studio $(PYTEST_FLAGS); \
	else \
		echo "DATABASE_URL is not a PostgreSQL URL: PostgreSQL pass skipped."; \
	fi

# Known vulnerabilities in the pinned dependencies (needs the vulnerability database:
# PyPI's JSON API or OSV must be reachable from this machine).
audit: install
	$(BIN)/pip install --quiet --disable-pip-version-check pip-audit
	$(BIN)/pip-audit -r requirements.txt -r requirements-dev.txt --progress-spinner off

clean:
	rm -rf $(VENV) frontend/node_modules static/dist .coverage

# Distributed mode on this machine: redis-server, a Celery worker and daphne on 127.0.0.1.
.PHONY: run-distributed fault-injection
run-distributed: install frontend
	bash scripts/run_distributed.sh

# The long fault-injection proof: 20 worker kills (FAULT_INJECTION_KILLS), Redis and daphne
# restarts, killed database connections; every run must complete gap-free.
fault-injection: install
	FAULT_INJECTION_KILLS=$${FAULT_INJECTION_KILLS:-20} $(BIN)/pytest tests/studio/runs/test_fault_injection.py -v -s $(PYTEST_FLAGS)

# A longer property-based fuzzing pass over the API's OpenAPI schema than the suite's
# (FUZZ_EXAMPLES requests per operation and mode; set DATABASE_URL for PostgreSQL).
.PHONY: fuzz
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(BIN)/pytest tests/studio/test_api_fuzz.py -v $(PYTEST_FLAGS)
