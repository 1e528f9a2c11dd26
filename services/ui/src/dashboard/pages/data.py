"""Data page: upload (drag and drop) or pick a data set; histogram, scatter and table.

Chained callbacks: the picker loads the data set's summary into ``data-current``; that store
drives the column dropdowns' options; figures and table redraw when either the store or their
dropdowns change.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html
from dashboard.api_client import get_client
from dashboard.figures import empty_figure
from dashboard.views import data_view as dv
from dashboard.views.common import card, page_header

dash.register_page(__name__, path="/data", name="Data", title="Data · Iris monitor", order=1)


def layout(**_: Any) -> html.Div:
    upload = dcc.Upload(
        id="data-upload",
        children=html.Div(
            [
                html.Div("Drop a CSV here", className="fw-bold"),
                html.Small(["or ", html.Span("browse for a file", className="link-primary")]),
            ]
        ),
        className="upload-zone",
        multiple=False,
        accept=".csv,text/csv",
    )
    picker = html.Div(
        [
            dbc.Label("Data set", html_for="data-dataset"),
            dcc.Dropdown(
                options=[], id="data-dataset", placeholder="Choose a data set", clearable=False
            ),
            dbc.Button(
                "Refresh list", id="data-refresh", color="link", size="sm", className="px-0"
            ),
        ]
    )
    sources = card(
        "Data sets",
        dbc.Row([dbc.Col(upload, md=5), dbc.Col(picker, md=7)], className="g-3"),
        subtitle="Upload a CSV with a species column and the 20 features, or pick one",
    )
    explore = dbc.Row(
        [
            dbc.Col(
                card(
                    "Histogram",
                    [
                        dcc.Dropdown(
                            options=[], id="data-hist-col", clearable=False, className="mb-2"
                        ),
                        dcc.Graph(
                            id="data-hist",
                            figure=empty_figure("Loading…"),
                            config={"displaylogo": False},
                        ),
                    ],
                ),
                lg=6,
            ),
            dbc.Col(
                card(
                    "Scatter",
                    [
                        dbc.Row(
                            [
                                dbc.Col(
                                    dcc.Dropdown(options=[], id="data-x", clearable=False), xs=6
                                ),
                                dbc.Col(
                                    dcc.Dropdown(options=[], id="data-y", clearable=False), xs=6
                                ),
                            ],
                            className="g-2 mb-2",
                        ),
                        dcc.Graph(
                            id="data-scatter",
                            figure=empty_figure("Loading…"),
                            config={"displaylogo": False},
                        ),
                    ],
                ),
                lg=6,
            ),
        ]
    )
    table = card(
        "Rows",
        dcc.Loading(
            dash_table.DataTable(
                id="data-table",
                page_size=dv.TABLE_PAGE_SIZE,
                page_current=0,
                page_action="custom",
                sort_action="custom",
                sort_mode="multi",
                sort_by=[],
                style_table={"overflowX": "auto"},
                style_cell={
                    "fontFamily": "inherit",
                    "fontSize": "0.85rem",
                    "padding": "4px 8px",
                    "minWidth": "70px",
                },
                style_header={"fontWeight": "bold", "backgroundColor": "#ecf0f1"},
                style_data_conditional=[{"if": {"row_index": "odd"}, "backgroundColor": "#f8f9fa"}],
                style_cell_conditional=[{"if": {"column_type": "text"}, "textAlign": "left"}],
            )
        ),
        subtitle="Click a header to sort (shift-click for several); 15 rows a page",
    )
    return html.Div(
        [
            page_header("Data", "Explore the training data before you build a model."),
            dcc.Store(id="data-current"),
            html.Div(id="data-alert"),
            sources,
            html.Div(id="data-summary"),
            explore,
            table,
        ]
    )


@callback(
    Output("data-dataset", "options"),
    Output("data-dataset", "value"),
    Output("data-alert", "children"),
    Input("data-upload", "contents"),
    Input("data-refresh", "n_clicks"),
    State("data-upload", "filename"),
    State("data-dataset", "value"),
    State("sel-dataset", "data"),
)
def refresh_datasets(contents, _clicks, filename, current, remembered):
    """Fill the picker; a dropped file is uploaded first and then selected."""
    return dv.refresh_datasets(
        get_client(), ctx.triggered_id, contents, filename, current, remembered
    )


@callback(
    Output("data-current", "data"),
    Output("data-summary", "children"),
    Output("sel-dataset", "data"),
    Output("data-hist-col", "options"),
    Output("data-hist-col", "value"),
    Output("data-x", "options"),
    Output("data-x", "value"),
    Output("data-y", "options"),
    Output("data-y", "value"),
    Input("data-dataset", "value"),
    State("data-hist-col", "value"),
    State("data-x", "value"),
    State("data-y", "value"),
)
def load_dataset(dataset_id, hist, x, y):
    """Load the chosen data set's summary and its columns as the dropdowns' options (never
    hard-coded); figures and table redraw from these outputs."""
    current, strip, remembered = dv.load_dataset(get_client(), dataset_id)
    options, hist_v, x_v, y_v = dv.column_choices(current, hist, x, y)
    return current, strip, remembered, options, hist_v, options, x_v, options, y_v


@callback(
    Output("data-hist", "figure"), Input("data-hist-col", "value"), Input("data-current", "data")
)
def draw_histogram(column, current):
    return dv.histogram_for(get_client(), current, column)


@callback(
    Output("data-scatter", "figure"),
    Input("data-x", "value"),
    Input("data-y", "value"),
    Input("data-current", "data"),
)
def draw_scatter(x, y, current):
    return dv.scatter_for(get_client(), current, x, y)


@callback(
    Output("data-table", "data"),
    Output("data-table", "columns"),
    Output("data-table", "page_count"),
    Output("data-table", "page_current"),
    Input("data-current", "data"),
    Input("data-table", "page_current"),
    Input("data-table", "sort_by"),
)
def fill_table(current, page, sort_by):
    """Server-side paging and sorting: the browser holds one page of rows at a time."""
    triggered = ctx.triggered_prop_ids
    first_page = (
        not triggered or "data-current.data" in triggered or "data-table.sort_by" in triggered
    )
    return dv.table_for(get_client(), current, page, sort_by, first_page)
