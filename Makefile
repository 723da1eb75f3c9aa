# The table of contents: every way to run, test and measure the product.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Where `make run` keeps its state (.run/env, and .data/ for embedded servers); tests move it.
LOCALENV_DIR ?= $(CURDIR)
export LOCALENV_DIR
RUN_ENV := $(LOCALENV_DIR)/.run/env


.PHONY: help install lock run chat test test-deps bench-deps test-fast lint audit services-up bench chaos eval eval-pizza clean

help:
	@echo "make run     install, prepare the databases and run the whole mesh with the Twilio sandbox"
	@echo "make chat    talk to the running bot as a WhatsApp customer (LANG=es or LANG=pt-BR: from Mexico or Brazil)"
	@echo "make test    the whole test suite (real PostgreSQL and Redis)"
	@echo "make test-fast  the suite without the browser and fault-injection tests"
	@echo "make lint    ruff, mypy, the import contract and a vulnerability audit of the locked dependencies"
	@echo "make bench   throughput, latency and memory of the running mesh"
	@echo "make chaos   the long fault-injection run"
	@echo "make eval    conversation understanding on the labelled set"
	@echo "make eval-pizza  the order parser on the PIZZA benchmark's development split"

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Re-lock after changing pyproject.toml's dependencies.
lock: install
	$(VENV)/bin/uv pip compile --quiet --python $(PY) --extra dev --extra embedded --extra test --extra bench \
		-o requirements.lock pyproject.toml

run: install
	@$(PY) -m devtools.localenv up
	@trap 'true' INT TERM; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -e $(RUN_ENV) -f Procfile; \
	status=$$?; $(PY) -m devtools.localenv down; \
	if [ $$status -eq 130 ]; then exit 0; else exit $$status; fi  # Ctrl-C is how it is meant to stop

# `make chat LANG=es` / `LANG=pt-BR`: a customer from Mexico / Brazil (number and profile name
# only; the bot finds the language in what is typed). Only a LANG given on the command line
# counts: the shell's own LANG (C.UTF-8, en_US.UTF-8) is a locale, not a customer.
CHAT_LANGUAGE := $(if $(filter command line,$(origin LANG)),$(LANG),)
chat: install
	@test -f $(RUN_ENV) || { echo "start the mesh first: make run"; exit 1; }
	@set -a; source $(RUN_ENV); set +a; CHAT_LANGUAGE=$(CHAT_LANGUAGE) $(PY) -m sandbox.chat

services-up:
	@bash .ci/services-up

# Two workers, one test file each at a time (a file's services are started once per module):
# most e2e time is spent waiting on processes, so the two cores overlap it.
TEST_WORKERS ?= 2
test: install test-deps
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Everything but the browser and fault suites (markers in pyproject.toml): no chromium needed.
test-fast: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not browser and not faults" $(PYTEST_ARGS)

# promtool (Debian's `prometheus` package) checks deploy/prometheus and the services' live
# /metrics in `make test`. Installed only when missing; a failure stops here, loudly.
APT_GET := DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get -o DPkg::Lock::Timeout=300
test-deps:
	@command -v promtool >/dev/null 2>&1 || { \
		echo "promtool not found: installing Debian's prometheus package"; \
		$(APT_GET) install -y -q prometheus || { $(APT_GET) update -q && $(APT_GET) install -y -q prometheus; }; \
	}
	@command -v promtool >/dev/null 2>&1 || { \
		echo "error: promtool is still missing; install Debian's 'prometheus' package (apt-get install -y prometheus)" >&2; \
		exit 1; }
	@# The dashboard's browser tests drive Debian's chromium (Playwright cannot download browsers here).
	@command -v chromium >/dev/null 2>&1 || { \
		echo "chromium not found: installing Debian's chromium package"; \
		$(APT_GET) install -y -q chromium || { $(APT_GET) update -q && $(APT_GET) install -y -q chromium; }; \
	}
	@command -v chromium >/dev/null 2>&1 || { \
		echo "error: chromium is still missing; the dashboard's browser tests need Debian's 'chromium' package" >&2; \
		exit 1; }

# Not part of `make test`: minutes of load on the whole mesh (docs/performance.md). Needs the
# same PostgreSQL and Redis as the tests, and wrk, installed here when missing.
BENCH_ARGS ?=
bench: install bench-deps
	$(PY) -m bench $(BENCH_ARGS)

bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "wrk not found: installing Debian's wrk package"; \
		$(APT_GET) install -y -q wrk || { $(APT_GET) update -q && $(APT_GET) install -y -q wrk; }; \
	}
	@command -v wrk >/dev/null 2>&1 || { \
		echo "error: wrk is still missing; install Debian's 'wrk' package (apt-get install -y wrk)" >&2; \
		exit 1; }

# Not part of `make test`: random faults for CHAOS_SECONDS under a steady load, then the ledger
# (docs/guarantees.md). Exits non-zero when a reply was lost or doubled. Needs the tests' servers.
CHAOS_SECONDS ?= 180
CHAOS_ARGS ?=
# CHAOS_RATE=500: an open-loop stream of that many messages a second on top of the conversations.
CHAOS_RATE ?=
chaos: install
	$(PY) -m tests.faults.chaos --duration $(CHAOS_SECONDS) $(if $(CHAOS_RATE),--rate $(CHAOS_RATE)) $(CHAOS_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m devtools.audit

# Single messages (the parser) and multi-turn dialogues (the conversation, on a real database:
# the tests' PostgreSQL, or EVAL_DATABASE_URL) in every language; both print their tables.
eval: install
	$(PY) -m evals.messages; status=$$?; $(PY) -m evals.conversations || exit 1; exit $$status

# The PIZZA benchmark is licensed data kept outside the repository: PIZZA_DIR (default: a
# shared/pizza folder beside the clone) holds PIZZA_dev.json and catalogs/. Not part of `make test`.
EVAL_PIZZA_ARGS ?=
eval-pizza: install
	$(PY) -m evals.pizza $(EVAL_PIZZA_ARGS)

clean:
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache
