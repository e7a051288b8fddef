#!/bin/sh
# Front-end libraries from the npm registry (package-lock.json), copied into static/vendor/:
# every asset is served by the app itself (intranets have no CDN). One script for the
# Makefile (`make assets`) and the Dockerfile's Node stage, so the two cannot drift.
#
# Each script comes with the source map it names (`//# sourceMappingURL=...`): the
# production manifest storage rewrites those references and refuses a missing file, so
# `collectstatic` (and every page after it) would fail without them.
# Usage: scripts/vendor_assets.sh [--no-install]   (from anywhere; works on the repo root)
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-install" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

VENDOR=static/vendor
NM=node_modules

# vendor DEST FILE...: copy files (directories too) into static/vendor/DEST, each with the
# source map it names, taken from beside it in the npm package.
vendor() {
    dest="$VENDOR/$1"
    shift
    mkdir -p "$dest"
    for src in "$@"; do
        cp -r "$src" "$dest/"
        [ -f "$src" ] || continue
        for ref in $(sed -n 's|.*[#@] sourceMappingURL=\([^ *"]*\).*|\1|p' "$src"); do
            case "$ref" in data:*) continue ;; esac
            cp "$(dirname "$src")/$ref" "$dest/"
        done
    done
}

rm -rf "$VENDOR"
vendor leaflet "$NM/leaflet/dist/leaflet.js" "$NM/leaflet/dist/leaflet.css" "$NM/leaflet/dist/images"
vendor echarts "$NM/echarts/dist/echarts.min.js"
vendor htmx "$NM/htmx.org/dist/htmx.min.js"
vendor ol "$NM/ol/dist/ol.js" "$NM/ol/ol.css"
# Vector tiles (/api/v1/tiles/…/{z}/{x}/{y}.pbf) on the Leaflet maps; the bundled build carries its pbf decoder.
vendor leaflet.vectorgrid "$NM/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.js"
# Workbox for the field app's service worker: workbox-sw loads its modules from
# modulePathPrefix (/static/vendor/workbox/), never from a CDN.
vendor workbox "$NM/workbox-sw/build/workbox-sw.js" "$NM/workbox-window/build/workbox-window.prod.umd.js"
for m in core routing strategies precaching expiration cacheable-response; do
    vendor workbox "$NM/workbox-$m/build/workbox-$m.prod.js" "$NM/workbox-$m/build/workbox-$m.dev.js"
done

# Every file a vendored script or stylesheet refers to must exist next to it.
missing=0
for f in $(find "$VENDOR" -name '*.js' -o -name '*.css'); do
    for ref in $(sed -n 's|.*[#@] sourceMappingURL=\([^ *"]*\).*|\1|p' "$f"); do
        case "$ref" in data:*) continue ;; esac
        if [ ! -f "$(dirname "$f")/$ref" ]; then
            echo "vendor_assets: $f refers to $ref, which is missing" >&2
            missing=1
        fi
    done
done
[ "$missing" = 0 ]
touch "$VENDOR/.installed"
