"""The Dash application: Pages (one module per page in ``dashboard/pages``), a navbar, and the
per-tab selection stores the pages share.

Per-user state lives only in the browser: ``dcc.Store(storage_type="session")`` is scoped to one
tab, so two tabs never see each other's selections; the server process keeps none.
"""

from __future__ import annotations

import json
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, callback, dcc, html

from dashboard import ids, security
from dashboard.api import get_client
from dashboard.components.status import api_badge
from dashboard.config import get_settings

PACKAGE_DIR = Path(__file__).resolve().parent
API_STATUS_POLL_MS = 10_000


def _navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(
            dbc.NavLink(
                page["name"],
                href=page["relative_path"],
                active="exact",
                id=ids.Tab.nav(page["module"]),
            )
        )
        for page in dash.page_registry.values()
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [html.Span("◆", className="brand-mark me-2"), "Iris monitor"],
                    href="/",
                    className="fw-bold",
                ),
                dbc.Nav(links, navbar=True, className="me-auto"),
                html.Div(id=ids.Tab.API_STATUS, className="api-status"),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        className="mb-4 shadow-sm",
        sticky="top",
    )


def _layout() -> html.Div:
    return html.Div(
        [
            # Per-tab selections shared between pages (sessionStorage is per browser tab).
            dcc.Store(id=ids.Tab.DATASET, storage_type="session"),
            dcc.Store(id=ids.Tab.MODEL, storage_type="session"),
            dcc.Store(id=ids.Tab.RUN, storage_type="session"),
            dcc.Interval(id=ids.Tab.API_STATUS_POLL, interval=API_STATUS_POLL_MS),
            _navbar(),
            dbc.Container(dash.page_container, fluid="xl", className="pb-5"),
        ]
    )


def create_app() -> Dash:
    """Build the app; page modules register themselves and their callbacks on import."""
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PACKAGE_DIR / "pages"),
        assets_folder=str(PACKAGE_DIR / "assets"),
        assets_path_ignore=["vendor"],
        title="Iris monitor",
        update_title=None,
        suppress_callback_exceptions=True,
        # the bundled CSS (assets/) and Dash's own JS are served locally: no CDN needed
        serve_locally=True,
    )
    app.layout = _layout
    app.index_string = _index_keeping_builtins(app)
    app.renderer = _renderer_with_early_plotly()
    security.install(app, get_settings())
    return app


def _index_keeping_builtins(app: Dash) -> str:
    """Dash's page template with one script ahead of Dash's own: it saves the browser's
    parseFloat, parseInt, String#trim... that Dash's polyfill replaces with slower JavaScript,
    and ``assets/01-builtins.js`` puts them back (why: ``assets/vendor/keep-builtins.js``).
    Inline: a file would cost every page load one more request (assets are revalidated)."""
    code = (PACKAGE_DIR / "assets" / "vendor" / "keep-builtins.js").read_text()
    return app.index_string.replace("{%config%}", f"<script>{code}</script>\n{{%config%}}", 1)


def _renderer_with_early_plotly() -> str:
    """Dash's renderer with a ``request_pre`` hook (Dash's documented way to extend it): on a
    page whose first view draws a graph (``graphs=True`` in its ``register_page``), plotly.js
    starts loading while the server builds the page (``assets/05-plotly-bundle.js``); on one
    that shows a grid (``grids=True``), AG Grid's async chunk does (``assets/06-grid-early.js``)."""
    graphs, grids = (
        json.dumps(sorted(p["relative_path"] for p in dash.page_registry.values() if p.get(key)))
        for key in ("graphs", "grids")
    )
    hook = (
        f"function (payload) {{ window.irisEarlyPlotly(payload, {graphs}); "
        f"window.irisEarlyGrid(payload, {grids}); }}"
    )
    return f"var renderer = new DashRenderer({{request_pre: {hook}}});"


@callback(Output(ids.Tab.API_STATUS, "children"), Input(ids.Tab.API_STATUS_POLL, "n_intervals"))
def show_api_status(_: int | None) -> html.Span:
    """A live readiness badge for model_api in the navbar."""
    return api_badge(get_client())
