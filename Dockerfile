# One image for web, worker and beat. Debian 12 like the bureau machines: GDAL, GEOS, PROJ
# and SpatiaLite from Debian, Python packages pinned in requirements.txt.

# --- front-end assets: npm ci from the lockfile, then the same copy step as `make assets`
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor_assets.sh scripts/
RUN sh scripts/vendor_assets.sh

# --- the application
FROM debian:12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PATH=/app/.venv/bin:$PATH

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       python3 python3-venv python3-dev build-essential gdal-bin libgdal-dev libproj-dev binutils \
       libsqlite3-mod-spatialite postgresql-client curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt

COPY . .
COPY --from=assets /src/static/vendor /app/static/vendor
# collectstatic under the production settings (manifest storage: it fails on any missing
# reference). The build-time key and database are throwaway: nothing is served or stored.
RUN SECRET_KEY="build-only-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" \
       DATABASE_URL=spatialite:////tmp/build.sqlite3 python manage.py collectstatic --noinput -v0 \
    && rm -f /tmp/build.sqlite3 \
    && useradd --system --home /app supervision && mkdir -p /app/var/media /app/var/inbox /app/var/change_layers \
    && chown -R supervision /app/var

USER supervision
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
