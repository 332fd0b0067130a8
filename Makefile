# Two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test bench clean

# The virtualenv is rebuilt whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Creates or upgrades the schema (migrations/), seeds the database if it is empty,
# (re)issues and prints the demo keys, serves the API.
# One gunicorn worker with threads: the default memory:// limiter storage is per process.
run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed --if-empty
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 1 --threads 8 \
		--access-logfile - wsgi:app

test: $(VENV)/.installed
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
