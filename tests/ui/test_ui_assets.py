"""The vendored plotly.js bundle: the one the dashboard points dcc.Graph at, at the version
plotly.py's figures are written for, served but not loaded on every page."""

from __future__ import annotations

from dashboard.app import PACKAGE_DIR

from tests.support.ui_kit import pointed_plotly_bundle

ASSETS = PACKAGE_DIR / "assets"


def test_the_pointed_bundle_is_vendored_at_plotly_pys_plotlyjs_version() -> None:
    from plotly.offline import get_plotlyjs_version

    bundle = pointed_plotly_bundle(ASSETS)
    assert bundle.is_file(), f"{bundle} is missing: run scripts/vendor-plotly.sh"
    header = bundle.read_text(encoding="utf-8")[:200]
    assert f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}" in header, (
        "plotly.py was upgraded: run scripts/vendor-plotly.sh"
    )
    assert "Licensed under the MIT license" in header
    assert (ASSETS / "vendor/plotly.js-LICENSE.txt").is_file()
