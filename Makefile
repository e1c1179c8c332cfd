# `make run` needs only Python 3.11 (with venv); `make test` also PostgreSQL, Redis and npm, which
# it installs with apt-get when run as root and starts when stopped (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha256sum | cut -c1-12)

.PHONY: run demo test test-sqlite lint typecheck packages services browser bench install clean messages

install: $(STAMP)

$(STAMP): requirements/base.txt requirements/dev.txt requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	rm -f $(VENV)/.installed-* && touch $@

# The embedded defaults: SQLite, the filesystem broker, SMS to the console. Any variable set in
# the environment (DATABASE_URL, REDIS_URL, TWILIO_*, PORT, VAR_DIR) wins. (The end-to-end test runs
# `make run BIN=… STAMP=` to use the environment it runs in.)
PORT ?= 8000
# The demo loads only into an empty database, and by itself only into SQLite: with a DATABASE_URL of
# PostgreSQL (a real practice's, perhaps) only when asked, `DEMO=1 make run` or `make demo`.
DEMO ?= $(if $(filter-out sqlite:%,$(DATABASE_URL)),0,1)

run: export DEBUG ?= true
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP) messages
	mkdir -p "$${VAR_DIR:-var}"
	$(BIN)/python manage.py migrate --noinput
	@case "$(DEMO)" in \
		1|true|yes) echo "$(BIN)/python manage.py load_demo"; $(BIN)/python manage.py load_demo ;; \
		*) echo "demo not loaded (DEMO=$(DEMO), the default unless DATABASE_URL is SQLite); DEMO=1 make run or make demo loads it into an empty database" ;; \
	esac
	@echo ""
	@echo "  API        http://127.0.0.1:$(PORT)/api/v1/"
	@echo "  API docs   http://127.0.0.1:$(PORT)/api/v1/docs/"
	@echo "  Admin      http://127.0.0.1:$(PORT)/admin/"
	@echo "  Health     http://127.0.0.1:$(PORT)/healthz"
	@echo "  Ctrl-C stops the API, the worker and beat."
	@echo ""
	PATH="$(BIN):$$PATH" exec $(BIN)/honcho start -f Procfile --port $(PORT)

# The demo practice (logins, locations, surgeons, patients with visits) into an empty database, on
# any DATABASE_URL; it refuses, changing nothing, a database that holds any data.
demo: $(STAMP) messages
	mkdir -p "$${VAR_DIR:-var}"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo --refuse-if-not-empty

# The Twilio contract test serves Twilio's OpenAPI description with Stoplight Prism (npm),
# installed here into a git-ignored folder so a fresh clone gets it.
PRISM := .tools/prism/node_modules/.bin/prism
$(PRISM): | packages
	mkdir -p .tools/prism
	cd .tools/prism && npm install --no-save --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5

# Twilio's own OpenAPI description for it to serve: twilio-oai's spec/json/twilio_api_v2010.json,
# which the npm package @twilio-alpha/mcp ships (as twilio-oai/spec/json/). Only that file is taken
# from the pinned tarball (npm pack checks its integrity), not the package's MCP server and its
# dependencies. After changing the pin, delete .tools/twilio-oai so the next run fetches it again.
TWILIO_MCP := @twilio-alpha/mcp@0.7.0
TWILIO_SPEC := .tools/twilio-oai/twilio_api_v2010.json
$(TWILIO_SPEC): | packages
	rm -rf .tools/twilio-oai && mkdir -p .tools/twilio-oai/tmp
	cd .tools/twilio-oai/tmp && npm pack --silent --ignore-scripts $(TWILIO_MCP) >/dev/null && \
		tar -xzf *.tgz package/twilio-oai/spec/json/twilio_api_v2010.json
	mv .tools/twilio-oai/tmp/package/twilio-oai/spec/json/twilio_api_v2010.json $@
	rm -rf .tools/twilio-oai/tmp

test: packages $(STAMP) messages $(PRISM) $(TWILIO_SPEC) services browser lint typecheck
	@if docker compose version >/dev/null 2>&1; then \
		echo "docker compose config -q"; SECRET_KEY=x POSTGRES_PASSWORD=x SMS_BACKEND=twilio docker compose config -q; \
	else echo "no docker compose client here: docker-compose.yml is checked by the test suite only"; fi
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-sqlite

# The suite again on SQLite, `make run`'s database, in a throwaway folder (never var/): every test
# but those marked postgresql, and the two files whose processes never use the suite's database
# (`make run` itself, the Celery wiring), which the first run covers. Redis, Prism and Twilio's
# description are needed.
test-sqlite: $(STAMP) messages $(PRISM) $(TWILIO_SPEC) services browser
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		DATABASE_URL="sqlite:///$$tmp/db.sqlite3" $(BIN)/pytest -m "not postgresql" \
		--deselect tests/test_make_run.py --deselect tests/workers/test_celery_wiring.py

# The translations (<app>/locale/*/LC_MESSAGES/django.po) compiled to .mo with Babel: pure Python,
# no GNU gettext needed.
messages: $(STAMP)
	$(BIN)/python -m practice.catalogs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The system packages the test suite needs: PostgreSQL, Redis, and npm until .tools/ holds what it
# fetches. Missing ones are installed with apt-get as root; otherwise one line names them.
NPM_NEEDED := $(if $(and $(wildcard $(PRISM)),$(wildcard $(TWILIO_SPEC))),,npm)
packages:
	@bash scripts/ensure-packages.sh postgresql redis-server $(NPM_NEEDED)

# Admin pages are tested in a real browser: Debian's Chromium and its driver, at /usr/bin.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }; \
	else echo "browser tests need Chromium: run 'sudo apt-get install chromium chromium-driver'" >&2; exit 1; fi

# PostgreSQL and Redis are part of the test suite: start them if installed but stopped.
services:
	@bash scripts/ensure-packages.sh postgresql redis-server
	@bash scripts/ensure-services.sh

bench: $(STAMP) services
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
