#!/usr/bin/env bash
# Start PostgreSQL 15 + PostGIS and Redis on 127.0.0.1 unless they already answer. Idempotent.
set -euo pipefail
user=$1 password=$2 db=$3 port=$4
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres bash -c "$1"; fi; }

if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main'; then
    as_postgres "pg_createcluster 15 main" >/dev/null || pg_createcluster 15 main
  fi
  pg_ctlcluster 15 main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p "$port" >/dev/null || { echo "PostgreSQL did not start on 127.0.0.1:$port" >&2; exit 1; }

# The test role creates the postgis extension in each test database: a superuser here,
# on a throwaway local cluster. Production uses a role without it (see README).
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1 \
  || as_postgres "psql -qc \"CREATE ROLE $user LOGIN SUPERUSER PASSWORD '$password'\""
as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$db'\"" | grep -q 1 \
  || as_postgres "createdb -O $user $db"
as_postgres "psql -q -d $db -c 'SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis'" >/dev/null

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --save '' >/dev/null
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null || { echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
echo "services: PostgreSQL+PostGIS on 127.0.0.1:$port (db $db), Redis on 127.0.0.1:6379"
