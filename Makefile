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
	libsqlite3-mod-spatialite python3-venv python3-dev chromium fonts-wqy-microhei docker-compose gettext

.PHONY: help setup apt venv assets services demo test bench lint check-migrations clean messages

help:
	@echo "make demo   - set up, load the demo city, run a scan, serve on http://127.0.0.1:8000/"
	@echo "make test   - set up, start PostGIS and Redis, run the whole suite against them"
	@echo "make bench  - run the benchmarks in benchmarks/ (prints figures and ratios)"
	@echo "make lint   - ruff, manage.py check, makemigrations --check"

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
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	@$(PIP) install -q --upgrade pip 2>&1 | grep -v '^WARNING' || true
	@$(PIP) install -q -r requirements-dev.txt 2>&1 | grep -v '^WARNING' || true
	@$(PY) -c "import django, rasterio, rest_framework_gis, celery, playwright" 
	@touch $@

venv: $(VENV)/.installed

# Front-end libraries from the npm registry (package-lock.json), copied into static/vendor/:
# every asset is served by the app itself (intranets have no CDN).
VENDOR := static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	@npm ci --no-audit --no-fund --loglevel=error
	@rm -rf $(VENDOR) && mkdir -p $(VENDOR)/leaflet $(VENDOR)/echarts $(VENDOR)/htmx $(VENDOR)/ol
	@cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	@cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	@cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	@cp node_modules/ol/dist/ol.js node_modules/ol/ol.css $(VENDOR)/ol/
	@touch $@

assets: $(VENDOR)/.installed

# Starts PostgreSQL (with PostGIS) and Redis on 127.0.0.1 when they are not already running. Idempotent.
services: apt
	@bash scripts/services.sh "$(PG_USER)" "$(PG_PASSWORD)" "$(PG_DB)" "$(PG_PORT)"

demo: setup
	@bash scripts/demo.sh "$(DEMO_DB)"

test: setup services
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(POSTGIS_URL) CELERY_BROKER_URL=$(REDIS_URL) \
		CELERY_TASK_ALWAYS_EAGER=true $(PY) -m pytest $(PYTEST_ARGS)

bench: setup services
	DATABASE_URL=$(POSTGIS_URL) $(PY) benchmarks/run_all.py $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check supervision config tests benchmarks
	$(VENV)/bin/ruff format --check supervision config tests benchmarks
	DATABASE_URL=$(POSTGIS_URL) $(PY) manage.py check
	DATABASE_URL=$(POSTGIS_URL) $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf var/*.sqlite3 var/screenshots var/media

# Compile the translation catalogues (the .mo files are committed; run after editing a .po file).
messages:
	@for po in locale/*/LC_MESSAGES/django.po; do msgfmt -c -o $${po%.po}.mo $$po || exit 1; done
