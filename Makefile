# Two commands for a newcomer: `make demo` and `make test`. Everything else is here for them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY_SYS := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PG_PORT ?= 5432
PG_USER ?= supervision
PG_PASSWORD ?= supervision
PG_DB ?= supervision
POSTGIS_URL ?= postgis://$(PG_USER):$(PG_PASSWORD)@127.0.0.1:$(PG_PORT)/$(PG_DB)
REDIS_URL ?= redis://127.0.0.1:6379/0
DEMO_DB ?= var/demo.sqlite3
APT_PACKAGES := postgresql-15 postgresql-15-postgis-3 redis-server gdal-bin libgdal-dev binutils libproj-dev \
	libsqlite3-mod-spatialite python3-venv python3-dev chromium fonts-wqy-microhei docker-compose gettext nginx-light

.PHONY: help setup apt venv assets services demo test bench lint lock check-migrations clean messages

help:
	@echo "make demo   - set up, load the demo city, run a scan, serve on http://127.0.0.1:8000/"
	@echo "make test   - set up, start PostGIS and Redis, run the whole suite against them"
	@echo "make bench  - run the benchmarks in benchmarks/ (prints figures and ratios)"
	@echo "make lint   - ruff, mypy, manage.py check, makemigrations --check"
	@echo "make lock   - re-pin requirements*.txt into the hashed requirements*.lock (pip-tools)"

setup: apt venv assets

# Installs the Debian packages that are missing (as root, or through sudo).
apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The venv must come from Debian's Python: the machines' default python3 cannot load SQLite extensions.
# Installs exactly the hashed lock (every package pinned, every file checked against its SHA-256);
# refuses a lock that misses a pin of requirements*.txt (run `make lock`).
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-dev.lock
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	@$(PY_SYS) scripts/lock_check.py requirements-dev.lock requirements.txt requirements-dev.txt
	@$(PIP) install -q --require-hashes -r requirements-dev.lock 2>&1 | grep -v '^WARNING' || true
	@$(PY) -c "import django, rasterio, rest_framework_gis, celery, playwright" 
	@touch $@

venv: $(VENV)/.installed

# Front-end libraries from the npm registry (package-lock.json), copied into static/vendor/
# (with the source maps they name) by scripts/vendor_assets.sh, which the Dockerfile runs too.
VENDOR := static/vendor
$(VENDOR)/.installed: package.json package-lock.json scripts/vendor_assets.sh
	@command -v npm >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	@[ ! -L $(VENDOR) ] || rm $(VENDOR)
	@sh scripts/vendor_assets.sh

assets: $(VENDOR)/.installed

# Starts PostgreSQL (with PostGIS) and Redis on 127.0.0.1 when they are not already running. Idempotent.
services: apt
	@bash scripts/services.sh "$(PG_USER)" "$(PG_PASSWORD)" "$(PG_DB)" "$(PG_PORT)"

demo: setup
	@bash scripts/demo.sh "$(DEMO_DB)"

# mypy first (the files in mypy.ini, cache in var/): a type error fails `make test` before pytest runs.
test: setup services
	$(VENV)/bin/mypy
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(POSTGIS_URL) CELERY_BROKER_URL=$(REDIS_URL) \
		CELERY_TASK_ALWAYS_EAGER=true $(PY) -m pytest --cov=supervision --cov-report=term:skip-covered $(PYTEST_ARGS)

bench: setup services
	DATABASE_URL=$(POSTGIS_URL) $(PY) benchmarks/run_all.py $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check supervision config tests benchmarks
	$(VENV)/bin/ruff format --check supervision config tests benchmarks
	$(VENV)/bin/mypy
	DATABASE_URL=$(POSTGIS_URL) $(PY) manage.py check
	DATABASE_URL=$(POSTGIS_URL) $(PY) manage.py makemigrations --check --dry-run

# Hashed lock files from requirements*.txt (pip-tools). Deterministic: the pins of an existing lock are
# kept (only new or changed requirements are resolved), hashes cover every file of each pinned version.
# After adding a package to requirements*.txt: `make lock` and commit the two .lock files.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-trusted-host --no-emit-find-links --annotation-style=line
lock:
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	@test -x $(VENV)/bin/pip-compile || $(PIP) install -q "$$(grep -i '^pip-tools==' requirements-dev.txt)"
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

clean:
	rm -rf var/*.sqlite3 var/screenshots var/media

# Compile the translation catalogues (the .mo files are committed; run after editing a .po file).
messages:
	@for po in locale/*/LC_MESSAGES/django.po; do msgfmt -c -o $${po%.po}.mo $$po || exit 1; done
