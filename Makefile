# The two commands of the README:
#   make run    set up, migrate, load the demo data and start the portal (web + worker + beat)
#   make test   set up and run the whole test suite
# A fresh machine needs only Python 3.11+, Node/npm and make. Set-up steps are skipped
# when nothing changed (stamp files), so both commands start quickly the second time.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
PIP_STAMP := $(VENV)/.zhubao-requirements
NPM_STAMP := node_modules/.zhubao-installed

.PHONY: run test setup translations migrate demo

run: setup migrate demo
	@echo ""
	@echo "Zhubao is starting at http://$(ADDR)/  (sign in with a login above; Ctrl-C stops it)"
	@echo ""
	$(PY) manage.py run_portal --addr $(ADDR)

test: setup
	$(VENV)/bin/pytest

setup: $(PIP_STAMP) $(NPM_STAMP) translations

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Zhubao needs Python 3.11 or newer (set PYTHON=python3.x).")'
	$(PYTHON) -m venv $(VENV)

$(PIP_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# .mo files are build output: compiled with polib, so GNU gettext is not needed.
translations: $(PIP_STAMP)
	@$(PY) scripts/compile_translations.py

migrate: setup
	$(PY) manage.py migrate --noinput --verbosity 0

demo: migrate
	$(PY) manage.py seed_demo --password "$${DEMO_PASSWORD:-zhubao-demo}"
