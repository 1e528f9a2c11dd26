"""Data page: upload (drag and drop) or pick a data set; histogram, scatter and table.

Chained callbacks: the picker loads the data set's summary into ``data-current``; that store
drives the column dropdowns' options and the grid's columns; figures redraw when either the
store or their dropdowns change. Nothing downloads the data set: the histogram comes as bin
counts, the scatter as its two columns, the grid as one sorted page at a time (model_api).
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.figures import graph
from dashboard.components.grid import block_stores, grid, serve_blocks
from dashboard.components.layout import card, page_header
from dashboard.components.pickers import remember_in_tab
from dashboard.logic import data as logic

dash.register_page(
    __name__,
    path="/data",
    name="Data",
    title="Data · Iris monitor",
    order=1,
    graphs=True,
    grids=True,
)

ID = ids.Data


def layout(**_: Any) -> html.Div:
    view = logic.first_view(get_client())
    options, hist_value, x_value, y_value = view["choices"]
    upload = dcc.Upload(
        id=ID.UPLOAD,
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
            dbc.Label("Data set", html_for=ID.DATASET),
            dcc.Dropdown(
                options=view["options"],
                value=view["value"],
                id=ID.DATASET,
                placeholder="Choose a data set",
                clearable=False,
            ),
            dbc.Button("Refresh list", id=ID.REFRESH, color="link", size="sm", className="px-0"),
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
                            options=options,
                            value=hist_value,
                            id=ID.HIST_COLUMN,
                            clearable=False,
                            className="mb-2",
                        ),
                        graph(
                            id=ID.HIST,
                            figure=view["hist"],
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
                                    dcc.Dropdown(
                                        options=options, value=x_value, id=ID.X, clearable=False
                                    ),
                                    xs=6,
                                ),
                                dbc.Col(
                                    dcc.Dropdown(
                                        options=options, value=y_value, id=ID.Y, clearable=False
                                    ),
                                    xs=6,
                                ),
                            ],
                            className="g-2 mb-2",
                        ),
                        graph(
                            id=ID.SCATTER,
                            figure=view["scatter"],
                        ),
                    ],
                ),
                lg=6,
            ),
        ]
    )
    table = card(
        "Rows",
        [
            grid(
                ID.TABLE,
                view["columns"],
                page_size=logic.TABLE_PAGE_SIZE,
                server_side=True,
            ),
            *block_stores(ID.TABLE, view["rows"]),
        ],
        subtitle="Click a header to sort (shift-click for several); 15 rows a page",
    )
    return html.Div(
        [
            page_header("Data", "Explore the training data before you build a model."),
            dcc.Store(id=ID.CURRENT, data=view["current"]),
            dcc.Store(id=ID.OPENED, data=False),
            html.Div(view["alert"], id=ID.ALERT),
            sources,
            html.Div(view["summary"], id=ID.SUMMARY),
            explore,
            table,
        ]
    )


@callback(
    output=dict(
        dataset_options=Output(ID.DATASET, "options"),
        dataset=Output(ID.DATASET, "value"),
        alert=Output(ID.ALERT, "children"),
        current=Output(ID.CURRENT, "data"),
        summary=Output(ID.SUMMARY, "children"),
        hist_options=Output(ID.HIST_COLUMN, "options"),
        hist=Output(ID.HIST_COLUMN, "value"),
        x_options=Output(ID.X, "options"),
        x=Output(ID.X, "value"),
        y_options=Output(ID.Y, "options"),
        y=Output(ID.Y, "value"),
        columns=Output(ID.TABLE, "columnDefs"),
    ),
    inputs=[
        Input(ID.UPLOAD, "contents"),
        Input(ID.REFRESH, "n_clicks"),
        Input(ID.DATASET, "value"),
    ],
    state=[
        State(ID.UPLOAD, "filename"),
        State(ids.Tab.DATASET, "data"),
        State(ID.HIST_COLUMN, "value"),
        State(ID.X, "value"),
        State(ID.Y, "value"),
    ],
    prevent_initial_call=True,  # the layout already shows the newest data set
)
def pick_dataset(contents, _clicks, chosen, filename, remembered, hist, x, y):
    """The picker and the chosen data set (:func:`logic.pick`)."""
    upload, shown = (contents, filename), (hist, x, y)
    return logic.pick(get_client(), ctx.triggered_id, upload, chosen, remembered, shown)._asdict()


# The tab's data set (``sel-dataset``, other pages read it) is written here in the browser, not by
# pick_dataset: a callback with an output outside the page fires on every page load whatever its
# prevent_initial_call says. When the page opens it shows the newest data set; a tab that
# remembers another one switches to it (the switch redraws through pick_dataset).
remember_in_tab(ids.Tab.DATASET, ID.OPENED, pick=ID.DATASET, shown=ID.CURRENT)


@callback(
    Output(ID.HIST, "figure"),
    Input(ID.HIST_COLUMN, "value"),
    Input(ID.CURRENT, "data"),
    prevent_initial_call=True,  # nothing to draw before the data set is loaded
)
def draw_histogram(column, current):
    return logic.histogram_for(get_client(), current, column)


@callback(
    Output(ID.SCATTER, "figure"),
    Input(ID.X, "value"),
    Input(ID.Y, "value"),
    Input(ID.CURRENT, "data"),
    prevent_initial_call=True,
)
def draw_scatter(x, y, current):
    return logic.scatter_for(get_client(), current, x, y)


# one block (15 rows) at a time, paged and sorted by model_api; a new data set: the grid forgets
# its blocks and asks for page 1 (the layout has the first)
serve_blocks(ID.TABLE, Input(ID.CURRENT, "data"), logic.table_block)
