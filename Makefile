# Two commands matter: `make run` (everything on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: lint run install install-test migrate demo serve test test-sqlite test-postgres test-topology bench messages clean

# PyICU (Thai dictionary order) builds against the system's ICU: libicu-dev, pkg-config and g++.
# The certificate tests read the PDFs' text back with poppler's pdftotext (poppler-utils).
$(BIN)/contest: pyproject.toml
	@pkg-config --exists icu-i18n 2>/dev/null && command -v g++ >/dev/null && command -v pdftotext >/dev/null || { \
	  echo "installing libicu-dev pkg-config g++ poppler-utils with apt-get (PyICU builds against them)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ poppler-utils; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(BIN)/contest

$(VENV)/.test-deps: pyproject.toml $(BIN)/contest
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install-test: $(VENV)/.test-deps

migrate: install
	$(BIN)/contest migrate

demo: migrate
	$(BIN)/contest demo --if-empty

run: demo
	$(BIN)/contest serve

serve: install
	$(BIN)/contest serve

# ruff (the whole tree) and mypy (contest, judging, uploads), as configured in pyproject.toml.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

# Lint, then the whole suite on SQLite, then again on PostgreSQL, with a real Redis and a real
# arq worker.
test: lint
	scripts/run-tests.sh

test-sqlite: install-test
	TEST_DATABASES=sqlite scripts/run-tests.sh

test-postgres: install-test
	TEST_DATABASES=postgres scripts/run-tests.sh

# The production topology on one machine (deploy/Procfile's processes: two web, one worker,
# PostgreSQL, Redis, S3, SMTP), one web process killed mid-load; fails on any loss.
test-topology: install-test
	$(BIN)/python -m bench.topology.run

bench: install-test
	$(BIN)/python -m bench.upload.run --real-app
	$(BIN)/python -m bench.deadline.run --db both
	$(BIN)/python -m bench.ranking.pure
	$(BIN)/python -m bench.ranking.db --db both
	$(BIN)/python -m bench.showcase.run
	$(BIN)/python -m bench.announcement.run
	$(BIN)/python -m bench.search.run
	$(BIN)/python -m bench.reviewing.run --db both
	$(BIN)/python -m bench.pages.run --db both

KEYWORDS := -k t -k N_ -k both -k NotFound -k Conflict -k PermissionDenied -k NotAuthenticated -k ValidationFailed -k RateLimited -k DomainError -k _message

messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header --sort-output $(KEYWORDS) -o contest/locale/messages.pot .
	$(BIN)/pybabel update -i contest/locale/messages.pot -d contest/locale -l th --no-fuzzy-matching --omit-header

clean:
	rm -rf $(VENV) var .pytest_cache
