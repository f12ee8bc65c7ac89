# MicroLLM Lab. `make run` serves the lab (embedded mode); `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# The production pass of the tests, and `make run-prod`, use the local services.
PROD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
PROD_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000
# `make run-prod`: server (daphne) processes sharing the port
WEB_PROCESSES ?= 2

.PHONY: run run-prod setup-db test test-embedded test-prod lint bench install

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet ".[test]"
	@touch $@

install: $(VENV)/.installed

# A key of its own for `make run-prod`, made once and kept out of git (var/ is ignored).
var/run-prod-secret-key:
	@mkdir -p var && umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

setup-db: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_packs
	$(PY) manage.py seed_demo

## Command 1: the lab on http://127.0.0.1:$(PORT) (SQLite, in-memory channels, in-process workers).
## The first lines say where to open it and the demo accounts; a taken port stops it at once.
run: export DEBUG = 1
run:
	@$(PYTHON) microlab_site/launch.py --port "$(PORT)"
	@$(MAKE) --no-print-directory setup-db
	@$(PYTHON) microlab_site/launch.py --port "$(PORT)" --ready
	@$(BIN)/daphne -b 127.0.0.1 -p $(PORT) microlab_site.asgi:application

## The production mode, locally: PostgreSQL, Redis, and daphne and a Celery worker as separate
## processes under supervisord (deploy/supervisord.conf), which starts again whichever dies.
## DEBUG off; plain http on loopback, so no SSL redirect, HSTS or secure-only cookies.
RUN_PROD_ENV = DEBUG=0 SECRET_KEY="$$(cat var/run-prod-secret-key)" \
	SECURE_SSL_REDIRECT=0 SECURE_HSTS_SECONDS=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 \
	DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(PROD_REDIS_URL)
run-prod: install var/run-prod-secret-key
	$(RUN_PROD_ENV) $(MAKE) --no-print-directory setup-db
	$(RUN_PROD_ENV) $(PY) manage.py collectstatic --no-input -v 0
	$(RUN_PROD_ENV) LAB_PORT=$(PORT) LAB_WEB_PROCESSES=$(WEB_PROCESSES) $(BIN)/supervisord -c deploy/supervisord.conf

## Command 2: every test, on SQLite + embedded, then the service tests on PostgreSQL + Redis.
test: install lint test-embedded test-prod

test-embedded: install
	$(BIN)/pytest

test-prod: install
	LAB_TEST_PASS=prod DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  $(BIN)/pytest -m services

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

## Benchmarks (each prints its figures; the last line is key=value pairs).
bench: export DEBUG = 1
bench: install
	$(PY) -m engine.bench
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py bench_opview
	$(PY) manage.py bench_lenses
	$(PY) manage.py bench_playground
	$(PY) manage.py pack_report
	DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(PROD_REDIS_URL) $(PY) manage.py bench_run
	DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(PROD_REDIS_URL) $(PY) manage.py load_classroom
