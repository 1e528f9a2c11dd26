#!/usr/bin/env bash
# Re-vendor plotly.js's "cartesian" partial bundle at the version plotly.py bundles (run after a
# plotly upgrade; tests/ui/test_ui_assets.py fails until the versions match again). Needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=services/ui/src/dashboard/assets/vendor
VERSION=$(uv run --frozen python -c "from plotly.offline import get_plotlyjs_version as v; print(v())")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "plotly.js-cartesian-dist-min@$VERSION" >/dev/null && tar xzf ./*.tgz)
rm -f "$VENDOR"/plotly-cartesian-*.min.js
cp "$TMP/package/plotly-cartesian.min.js" "$VENDOR/plotly-cartesian-$VERSION.min.js"
cp "$TMP/package/LICENSE" "$VENDOR/plotly.js-LICENSE.txt"
sed -i "s/plotly-cartesian-[0-9.]*\.min\.js/plotly-cartesian-$VERSION.min.js/" \
  services/ui/src/dashboard/assets/05-plotly-bundle.js
echo "vendored plotly.js-cartesian-dist-min@$VERSION; integrity:"
npm view "plotly.js-cartesian-dist-min@$VERSION" dist.integrity
echo "update the version row in $VENDOR/README.md"
