#!/usr/bin/env bash
# Re-vendor the dashboard's plotly.js bundle at the version plotly.py bundles (run after a plotly
# upgrade; tests/ui/test_ui_assets.py fails until the versions match again). Needs npm.
#
# The bundle is plotly.js's own core (which has the scatter trace) plus the only other traces the
# dashboard draws, bar and heatmap (dashboard/components/figures.py; tests/ui checks the list), built from the
# npm release's sources with esbuild the way plotly.js builds its partial bundles. A trace type
# the bundle lacks would draw nothing: add it to TRACES and re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
TRACES=(bar heatmap)
ESBUILD=0.28.2
VENDOR=services/ui/src/dashboard/assets/vendor
VERSION=$(uv run --frozen python -c "from plotly.offline import get_plotlyjs_version as v; print(v())")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --ignore-scripts "plotly.js@$VERSION" "esbuild@$ESBUILD"
{
  echo "var Plotly = require('plotly.js/lib/core');"
  echo "Plotly.register(["
  for trace in "${TRACES[@]}"; do echo "  require('plotly.js/lib/$trace'),"; done
  echo "]);"
  echo "module.exports = Plotly;"
} >entry.js
HEADER="/**
* plotly.js (iris: core + ${TRACES[*]} - minified) v$VERSION
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
*/"
# esbuild options as plotly.js's esbuild-config.js (no glsl: no WebGL trace here; the only CSS in
# reach is maplibre's, required for map traces only)
node_modules/.bin/esbuild entry.js --bundle --minify --format=iife --global-name=Plotly \
  --target=es2016 --define:global=window --define:define.amd=false \
  --define:process.env.NODE_DEBUG=false --alias:stream=stream-browserify --loader:.css=empty \
  --legal-comments=eof --banner:js="$HEADER" --footer:js="window.Plotly = Plotly;" \
  --log-level=warning --outfile=plotly-iris.min.js
cd - >/dev/null
rm -f "$VENDOR"/plotly-*.min.js
cp "$TMP/plotly-iris.min.js" "$VENDOR/plotly-iris-$VERSION.min.js"
cp "$TMP/node_modules/plotly.js/LICENSE" "$VENDOR/plotly.js-LICENSE.txt"
sed -i "s/plotly-[a-z]*-[0-9.]*\.min\.js/plotly-iris-$VERSION.min.js/" \
  services/ui/src/dashboard/assets/05-plotly-bundle.js
echo "built plotly-iris-$VERSION.min.js from plotly.js@$VERSION (npm integrity:"
echo "  $(npm view "plotly.js@$VERSION" dist.integrity)); sha256 of the bundle:"
sha256sum "$VENDOR/plotly-iris-$VERSION.min.js"
echo "update the row in $VENDOR/README.md"
