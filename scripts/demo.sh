#!/usr/bin/env bash
# `make demo`: the embedded default — a SpatiaLite file, Celery tasks in-process — with the
# demo city loaded and scanned, served on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-var/demo.sqlite3}
mkdir -p var
export DATABASE_URL="spatialite:///$(pwd)/$db"
export DJANGO_SETTINGS_MODULE=config.settings.local
export DEBUG=true PUBLIC_ZONING=${PUBLIC_ZONING:-true}
unset CELERY_BROKER_URL
# Mail goes to files under var/mail (the demo has no mail server); logs stay quiet.
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH="$(pwd)/var/mail"
export LOG_LEVEL=${LOG_LEVEL:-WARNING}
PY=.venv/bin/python

$PY manage.py migrate --noinput -v0
$PY manage.py load_demo
# Scan the synthetic change raster load_demo wrote (same file again: re-scanned, no new lead).
$PY manage.py scan_change_layer var/demo/changchun_change_2024.tif --plan changchun-2024 --kind landcover --wait
$PY manage.py collectstatic --noinput -v0
cat <<MSG

============================================================================
 supervision demo is running: plan changchun-2024 (长春市生态环境分区管控方案)
   Web app        http://127.0.0.1:8000/
   API            http://127.0.0.1:8000/api/v1/
   OpenAPI (UI)   http://127.0.0.1:8000/api/schema/swagger-ui/
   Admin          http://127.0.0.1:8000/admin/
   Summary        http://127.0.0.1:8000/api/v1/zoning/plans/changchun-2024/summary/
 Demo logins are listed above (load_demo). Stop with Ctrl-C.
============================================================================
MSG
exec $PY manage.py runserver 127.0.0.1:8000 --noreload
