# `make run` serves the portal (gunicorn.conf.py says how); `make test` runs the linters (ruff,
# mypy) and the whole suite. Both work from a fresh clone: they create .venv and install what
# they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8001
CHROMIUM ?= /usr/bin/chromium
# The demo LLM streams its answers at this pace, as a real one would.
EMULATOR_TOKENS_PER_S ?= 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench chromium node messages

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "easportal needs Python 3.11 or newer; set PYTHON=python3.x" or 0)'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.test-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.run-deps messages
	@$(BIN)/python scripts/write_env.py .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@$(BIN)/python manage.py create_admin
	$(BIN)/python manage.py seed_demo --emulator-port $(EMULATOR_PORT)
	@# The emulator, the worker that executes capacity runs (Django's tasks API, the
	@# database backend: queued runs wait in the database across restarts) and the probes'
	@# loop run beside the portal and stop with it; a run in progress then ends as failed,
	@# with what it measured.
	@$(BIN)/python -m emulator --host 127.0.0.1 --port $(EMULATOR_PORT) \
		--tokens-per-s $(EMULATOR_TOKENS_PER_S) & \
	emulator=$$!; \
	$(BIN)/python manage.py run_worker --no-reload & \
	worker=$$!; \
	$(BIN)/python manage.py run_probes & \
	probes=$$!; \
	trap 'kill $$emulator $$worker $$probes 2>/dev/null; wait $$worker $$probes 2>/dev/null' \
		EXIT INT TERM; \
	echo "easportal on http://$(HOST):$(PORT)/"; \
	$(BIN)/gunicorn easportal.wsgi --bind $(HOST):$(PORT) --access-logfile -

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint chromium node messages
	$(BIN)/pytest

# The speed targets of the issues, on SQLite and PostgreSQL; prints a table. Not part of `make test`.
bench: $(VENV)/.test-deps
	$(BIN)/python tests/bench/run.py

# $(call apt_install,package): as root, install a Debian package; otherwise say how.
define apt_install
	if [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); \
	else \
		echo "$(1) is missing; install it with: sudo apt-get update && sudo apt-get install -y $(1)"; \
		exit 1; \
	fi
endef

# The translations (locale/*/LC_MESSAGES/*.po, docs/i18n.md) compiled to the .mo files that
# Django reads; those are not kept in git. compilemessages needs gettext's msgfmt.
messages: $(VENV)/.run-deps
	@command -v msgfmt >/dev/null || { $(call apt_install,gettext); }
	@# No settings needed: django-admin finds the locale folder by walking the tree.
	@env -u DJANGO_SETTINGS_MODULE $(BIN)/django-admin compilemessages --ignore=$(VENV) \
		--ignore=node_modules --ignore=var --verbosity 0

# Node.js runs the fetch snippets in the tests.
node:
	@command -v node >/dev/null || { $(call apt_install,nodejs); }

# Debian's Chromium, driven by Playwright: never a browser download; and a font with Chinese
# characters, for the pages in Chinese and their screenshots (docs/i18n.md).
chromium:
	@[ -x $(CHROMIUM) ] || { $(call apt_install,chromium); }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { $(call apt_install,fonts-wqy-microhei); }
