# labvault developer tasks. Needs only python3 (3.10+) and git on the machine.
#
#   make venv        .venv with labvault (editable) and the dev tools
#   make dvc-oracle  .venv-dvc with the pinned real dvc (and dvc-s3), used by the interop tests only
#   make services    node_modules with the pinned Azurite (npm ci), started by the tests themselves
#   make web-assets  the dashboard's pinned htmx, copied from node_modules into the served static folder
#   make browser     Debian's chromium for the dashboard's browser tests (apt-get, when missing)
#   make lint        ruff, mypy (strict on src/labvault), import-linter layer contracts
#   make test        lint, then the whole test suite on 2 workers
#   make demo        the guided tour (demo/tour.py)
#   make bench       the benchmarks (bench/run_all.py)
#   make clean       caches and scratch folders; `make distclean` also removes both venvs

PYTHON      ?= python3
VENV        := .venv
DVC_VENV    := .venv-dvc
DVC_VERSION := 3.67.1
DVC_S3_VERSION := 3.3.0
NPM         ?= npm
# One test worker more than there are cores: many tests wait on subprocesses and local servers, so a
# third worker on a 2-core machine took the suite from about 20.5 to 18 minutes.
PYTEST_JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST_ARGS ?=

PY   := $(VENV)/bin/python
PIP  := -m pip install -q --disable-pip-version-check --no-input
# Only the folders that exist: ruff reports a missing path as an error.
LINT_DIRS := $(wildcard src tests bench demo)

.DEFAULT_GOAL := help
.PHONY: help venv dvc-oracle services web-assets browser postgres lint test demo bench clean distclean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(VENV)/.stamp

# Pinned versions first (no resolver backtracking), then labvault itself without dependencies.
$(VENV)/.stamp: pyproject.toml requirements/dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) $(PIP) -r requirements/dev.lock
	$(PY) $(PIP) --no-deps -e .
	@touch $@

dvc-oracle: $(DVC_VENV)/.stamp

$(DVC_VENV)/.stamp: requirements/dvc-oracle.lock
	@test -x $(DVC_VENV)/bin/python || $(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/python $(PIP) -r requirements/dvc-oracle.lock
	@$(DVC_VENV)/bin/dvc --version >/dev/null
	@touch $@

services: node_modules/.stamp

# Azurite (Azure Blob emulator) for the backend tests and htmx for the dashboard, pinned by package-lock.json.
node_modules/.stamp: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --silent
	@test -x node_modules/.bin/azurite-blob
	@test -f node_modules/htmx.org/dist/htmx.min.js
	@touch $@

# The dashboard serves its JavaScript from the package's static folder, never from a CDN; the copy
# is not in git (pages work without it: tables are plain links and forms).
WEB_VENDOR := src/labvault/web/static/vendor
web-assets: $(WEB_VENDOR)/htmx.min.js

$(WEB_VENDOR)/htmx.min.js: node_modules/.stamp
	@mkdir -p $(WEB_VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Debian's chromium for the browser tests (tests/web/browser drive it through Playwright, which
# cannot download its own browser here). Installed only when missing; needs root (or sudo).
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-dejavu-core; }

# PostgreSQL server binaries for the catalog tests (they start their own throwaway cluster) and
# restic (the retention oracle of tests/backup). Installed only when missing; needs root (or sudo).
postgres:
	@{ ls /usr/lib/postgresql/*/bin/initdb && command -v restic; } >/dev/null 2>&1 || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql restic; }
	@# setfacl/getfacl for access control (tests/access), likewise only when missing.
	@command -v setfacl >/dev/null 2>&1 || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q acl; }

lint: venv
	$(VENV)/bin/ruff check $(LINT_DIRS)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint dvc-oracle node_modules/.stamp web-assets postgres browser
	$(PY) -m pytest -n $(PYTEST_JOBS) --durations=30 $(PYTEST_ARGS) tests

demo: venv web-assets
	$(PY) demo/tour.py

# Everything side by side with dvc, then the catalog at scale; figures land in bench/results/
# and docs/benchmarks.md. BENCH_ARGS reach the core suite (e.g. BENCH_ARGS=--quick).
bench: venv dvc-oracle postgres browser
	$(PY) bench/run_all.py --fresh $(BENCH_ARGS)
	$(PY) bench/remotes_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,--s3-files 3000)
	$(PY) bench/pipelines_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(PY) bench/catalog_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--scale 0.01,)
	$(PY) bench/million_files.py $(if $(findstring --quick,$(BENCH_ARGS)),--files 20000,)
	$(PY) bench/backup_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,)
	$(PY) bench/web_bench.py --workers 2 $(if $(findstring --quick,$(BENCH_ARGS)),--scale 0.01,)
	$(if $(findstring --quick,$(BENCH_ARGS)),,$(PY) bench/assemble_docs.py)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache build dist bench/work
	rm -rf src/*.egg-info
	find . -name __pycache__ -type d -not -path './.venv*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(DVC_VENV) node_modules
