# Portevoix — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
# The first interpreter that really runs and is 3.11 or newer (pyenv shims may exist for
# versions that are not installed).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Tests talk to real services; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portevoix
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Two workers: the machines we run on have two cores.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: run test install install-dev migrate lint typecheck messages check-deploy clean

$(VENV)/.base: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Portevoix needs Python 3.11 or newer on the PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compilemessages_portable

## make run: the whole app on http://$(HOST):$(PORT) with a worker and a scheduler.
# What a user would see: no debug pages (whitenoise serves the static files).
run: export DEBUG ?= false
run: migrate
	$(PY) manage.py seed_demo
	$(PY) bin/run-stack --host $(HOST) --port $(PORT)

## make test: the whole suite against PostgreSQL and Redis.
test: install-dev
	$(PY) manage.py compilemessages_portable
	PORTEVOIX_ENV=test DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install-dev
	$(PY) -m mypy organizations notifications content advocacy challenges analytics config

## make messages: extract strings into locale/*.po (needs GNU gettext).
messages: install
	$(PY) manage.py makemessages --locale fr --locale en --ignore '.venv/*' --ignore 'var/*' --no-obsolete
	$(PY) manage.py compilemessages_portable

check-deploy: install
	PORTEVOIX_ENV=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=example.org \
		FIELD_ENCRYPTION_KEYS=$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_') \
		$(PY) manage.py check --deploy --fail-level WARNING

## make bench: Portevoix beside a bare Django floor over real HTTP (gunicorn, wrk), on generated
## data; BENCH_SCALE=small|medium|full (or SCALE=...); then challenge results, leaderboards and
## rollups on the same data. Results in bench/results/.
BENCH_SCALE ?= small
.PHONY: bench
BENCH_SCALE_CHOSEN = $(if $(SCALE),$(SCALE),$(BENCH_SCALE))
bench: install
	@command -v wrk >/dev/null || { echo "make bench needs wrk (Debian: sudo apt-get install wrk)"; exit 1; }
	BENCH_SCALE=$(BENCH_SCALE_CHOSEN) $(PY) -m bench.run
	$(PY) -m bench.challenge_results --scale $(BENCH_SCALE_CHOSEN)
	$(PY) -m bench.leaderboards --scale $(BENCH_SCALE_CHOSEN)
	$(PY) -m bench.rollups --scale $(BENCH_SCALE_CHOSEN) $(if $(filter full,$(BENCH_SCALE_CHOSEN)),--rounds 1)
	$(PY) -m bench.dashboards --scale $(BENCH_SCALE_CHOSEN)
	@# These exit with 1 when a target is missed; the runs after them still go.
	-$(PY) -m bench.publishing --shares 10000 --latency-ms 100 --concurrency 8 --pool prefork
	-$(PY) -m bench.fanout --people 10000 --legacy-people 2000
	-$(PY) -m bench.memory --scale $(BENCH_SCALE_CHOSEN)

clean:
	rm -rf var .pytest_cache test-artifacts
