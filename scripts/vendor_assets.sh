#!/bin/sh
# Front-end libraries from the npm registry (package-lock.json), copied into static/vendor/:
# every asset is served by the app itself (intranets have no CDN). One script for the
# Makefile (`make assets`) and the Dockerfile's Node stage, so the two cannot drift.
#
# Source maps are copied with the scripts that name them (`//# sourceMappingURL=...`):
# the production manifest storage rewrites those references and refuses a missing file.
# Usage: scripts/vendor_assets.sh [--no-install]   (run from anywhere; works on the repo root)
set -eu
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-install" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

VENDOR=static/vendor
NM=node_modules
rm -rf "$VENDOR"
mkdir -p "$VENDOR/leaflet" "$VENDOR/echarts" "$VENDOR/htmx" "$VENDOR/ol"
cp -r "$NM/leaflet/dist/leaflet.js" "$NM/leaflet/dist/leaflet.js.map" "$NM/leaflet/dist/leaflet.css" \
    "$NM/leaflet/dist/images" "$VENDOR/leaflet/"
cp "$NM/echarts/dist/echarts.min.js" "$VENDOR/echarts/"
cp "$NM/htmx.org/dist/htmx.min.js" "$VENDOR/htmx/"
cp "$NM/ol/dist/ol.js" "$NM/ol/dist/ol.js.map" "$NM/ol/ol.css" "$VENDOR/ol/"

# Every file a vendored script or stylesheet refers to must exist next to it.
missing=0
for f in $(find "$VENDOR" -name '*.js' -o -name '*.css'); do
    for ref in $(sed -n 's|.*[#@] sourceMappingURL=\([^ *]*\).*|\1|p' "$f"); do
        if [ ! -f "$(dirname "$f")/$ref" ]; then
            echo "vendor_assets: $f refers to $ref, which is missing" >&2
            missing=1
        fi
    done
done
[ "$missing" = 0 ]
touch "$VENDOR/.installed"
