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
    assert f" - minified) v{get_plotlyjs_version()}" in header, (
        "plotly.py was upgraded: run scripts/vendor-plotly.sh"
    )
    assert "Licensed under the MIT license" in header
    assert (ASSETS / "vendor/plotly.js-LICENSE.txt").is_file()


def test_the_bundle_has_every_trace_type_the_figures_draw() -> None:
    """The partial bundle registers only some traces (scatter is plotly.js's core): a figure of
    any other type would draw nothing, so the figures' template names what the bundle needs."""
    from dashboard.components import figures

    header = pointed_plotly_bundle(ASSETS).read_text(encoding="utf-8")[:200]
    listed = header.split("plotly.js (iris: core + ", 1)[1].split(" - minified)", 1)[0].split()
    drawn = set(figures.LAYOUT["template"]["data"]) - {"scatter"}
    assert drawn <= set(listed), f"add {drawn - set(listed)} to TRACES in scripts/vendor-plotly.sh"
