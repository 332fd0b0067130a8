# Two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test bench clean

# Two stamps, so that serving needs only what the server imports: `make run` installs
# requirements.txt; `make test` and `make bench` add requirements-dev.txt (pytest,
# Playwright, schemathesis, ...) to the same .venv. Each stamp is redone when its
# requirements file changes.
RUNTIME := $(VENV)/.runtime-installed
DEV     := $(VENV)/.dev-installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Creates or upgrades the schema (migrations/), seeds the database if it is empty,
# (re)issues and prints the demo keys, serves the API.
# gunicorn.conf.py is the served configuration: one worker with threads (the default
# memory:// limiter storage is per process), problem+json for gunicorn's own answers,
# an access log that never records a key.
# A webhook delivery worker runs beside it and stops when gunicorn does;
# WEBHOOK_ALLOW_PRIVATE=true lets the local demo send webhooks to http://127.0.0.1.
run: $(RUNTIME)
	$(FLASK) db upgrade
	$(FLASK) seed --if-empty
	export WEBHOOK_ALLOW_PRIVATE=true; \
	$(FLASK) webhooks deliver & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' INT TERM EXIT; \
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT)

test: $(DEV)
	$(BIN)/python -m pytest

# The figures in bench/README.md are wrk's: Debian's package is installed if it is missing
# (and can be); otherwise the bench says so and uses its pure-Python load generator.
bench: $(DEV)
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y -qq wrk >/dev/null 2>&1 \
	  || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1) \
	  || echo "wrk not installed: using the pure-Python load generator (ratios differ)"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
