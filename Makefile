# `make run` and `make test` work on a fresh machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha256sum | cut -c1-12)

.PHONY: run test lint typecheck services bench install clean

install: $(STAMP)

$(STAMP): requirements/base.txt requirements/dev.txt requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	rm -f $(VENV)/.installed-* && touch $@

# The embedded defaults: SQLite, the filesystem broker, SMS to the console. Any variable set in
# the environment (DATABASE_URL, REDIS_URL, TWILIO_*) wins.
run: export DEBUG ?= true
run: $(STAMP)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo ""
	@echo "  API        http://127.0.0.1:8000/api/v1/"
	@echo "  API docs   http://127.0.0.1:8000/api/v1/docs/"
	@echo "  Admin      http://127.0.0.1:8000/admin/"
	@echo "  Health     http://127.0.0.1:8000/healthz"
	@echo "  Ctrl-C stops the API, the worker and beat."
	@echo ""
	PATH="$(BIN):$$PATH" exec $(BIN)/honcho start -f Procfile --port $${PORT:-8000}

# The Twilio contract test serves Twilio's OpenAPI description with Stoplight Prism (npm),
# installed here into a git-ignored folder so a fresh clone gets it.
PRISM := .tools/prism/node_modules/.bin/prism
$(PRISM):
	mkdir -p .tools/prism
	cd .tools/prism && npm install --no-save --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5

test: $(STAMP) $(PRISM) services lint typecheck
	@if docker compose version >/dev/null 2>&1; then \
		echo "docker compose config -q"; SECRET_KEY=x POSTGRES_PASSWORD=x SMS_BACKEND=twilio docker compose config -q; \
	else echo "no docker compose client here: docker-compose.yml is checked by the test suite only"; fi
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# PostgreSQL and Redis are part of the test suite: start them if installed but stopped.
services:
	@bash scripts/ensure-services.sh

bench: $(STAMP) services
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
