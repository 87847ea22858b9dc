# The two commands of the README: `make run` and `make test`.
.PHONY: run test setup lint serve worker faults

PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

setup:
	./scripts/setup.sh

## Install everything, migrate, load demo data and serve http://$(HOST):$(PORT) on embedded defaults,
## with the RTMP ingest (rtmp://127.0.0.1:1935/live) in the same process: see livesite/management/commands/serve.py.
## Everything listens on loopback; with DEBUG on, serve refuses any other address (DEBUG_ALLOW_PUBLIC_BIND).
run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py demo
	$(PY) manage.py collectstatic --no-input -v 0
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

## Install everything, then lint and run the whole test suite.
test: setup lint
	$(PY) -m pytest

## The fault-injection suite alone (docs/reliability.md section 8); it is also part of `make test`.
## Needs MariaDB and Redis: DATABASE_URL, REDIS_URL, and LIVESITE_REQUIRE_SERVICES=1 to fail, not skip.
faults:
	$(PY) -m pytest -m faults

lint:
	.venv/bin/ruff check .
	PYTHONPATH=. .venv/bin/lint-imports


worker:
	$(PY) -m celery -A livesite worker --loglevel INFO
