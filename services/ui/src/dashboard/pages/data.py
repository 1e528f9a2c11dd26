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
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dashboard.api import get_client
from dashboard.components.grid import block_stores, grid, serve_blocks
from dashboard.components.layout import card, page_header
from dashboard.views import data_view as dv

dash.register_page(__name__, path="/data", name="Data", title="Data · Iris monitor", order=1)


def layout(**_: Any) -> html.Div:
    view = dv.first_view(get_client())
    options, hist_value, x_value, y_value = view["choices"]
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
                options=view["options"],
                value=view["value"],
                id="data-dataset",
                placeholder="Choose a data set",
                clearable=False,
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
                            options=options,
                            value=hist_value,
                            id="data-hist-col",
                            clearable=False,
                            className="mb-2",
                        ),
                        dcc.Graph(
                            id="data-hist",
                            figure=view["hist"],
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
                                    dcc.Dropdown(
                                        options=options, value=x_value, id="data-x", clearable=False
                                    ),
                                    xs=6,
                                ),
                                dbc.Col(
                                    dcc.Dropdown(
                                        options=options, value=y_value, id="data-y", clearable=False
                                    ),
                                    xs=6,
                                ),
                            ],
                            className="g-2 mb-2",
                        ),
                        dcc.Graph(
                            id="data-scatter",
                            figure=view["scatter"],
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
        [
            grid(
                "data-table",
                view["columns"],
                page_size=dv.TABLE_PAGE_SIZE,
                server_side=True,
            ),
            *block_stores("data-table", view["rows"]),
        ],
        subtitle="Click a header to sort (shift-click for several); 15 rows a page",
    )
    return html.Div(
        [
            page_header("Data", "Explore the training data before you build a model."),
            dcc.Store(id="data-current", data=view["current"]),
            dcc.Store(id="data-opened", data=False),
            html.Div(view["alert"], id="data-alert"),
            sources,
            html.Div(view["summary"], id="data-summary"),
            explore,
            table,
        ]
    )


@callback(
    Output("data-dataset", "options"),
    Output("data-dataset", "value"),
    Output("data-alert", "children"),
    Output("data-current", "data"),
    Output("data-summary", "children"),
    Output("data-hist-col", "options"),
    Output("data-hist-col", "value"),
    Output("data-x", "options"),
    Output("data-x", "value"),
    Output("data-y", "options"),
    Output("data-y", "value"),
    Output("data-table", "columnDefs"),
    Input("data-upload", "contents"),
    Input("data-refresh", "n_clicks"),
    Input("data-dataset", "value"),
    State("data-upload", "filename"),
    State("sel-dataset", "data"),
    State("data-hist-col", "value"),
    State("data-x", "value"),
    State("data-y", "value"),
    prevent_initial_call=True,  # the layout already shows the newest data set
)
def pick_dataset(contents, _clicks, chosen, filename, remembered, hist, x, y):
    """Fill the picker (a dropped file is uploaded first and then selected) and load the chosen
    data set's summary, its columns as the dropdowns' options (never hard-coded) and the grid's
    columns; figures and grid redraw from these outputs."""
    client = get_client()
    trigger = ctx.triggered_id
    picker: tuple = (no_update, no_update, no_update)
    dataset_id = chosen
    if trigger != "data-dataset":  # page load, refresh or upload: list the data sets first
        picker = dv.refresh_datasets(client, trigger, contents, filename, chosen, remembered)
        if picker[1] is not no_update:
            dataset_id = picker[1]
        if dataset_id == chosen:
            return *picker, *([no_update] * 9)  # same data set: nothing to redraw
    current, strip, _ = dv.load_dataset(client, dataset_id)
    options, hist_v, x_v, y_v = dv.column_choices(current, hist, x, y)
    columns = dv.table_columns(current)
    return *picker, current, strip, options, hist_v, options, x_v, options, y_v, columns


# The tab's data set (``sel-dataset``, other pages read it) is written here in the browser, not by
# pick_dataset: a callback with an output outside the page fires on every page load whatever its
# prevent_initial_call says. When the page opens it shows the newest data set; a tab that
# remembers another one switches to it (the switch redraws through pick_dataset).
clientside_callback(
    """function (current, remembered, options, opened) {
      const nothing = window.dash_clientside.no_update;
      const shown = current ? current.id : null;
      const known = (options || []).some(o => o.value === remembered);
      if (!opened && known && remembered !== shown) { return [remembered, nothing, true]; }
      return [nothing, shown == null || shown === remembered ? nothing : shown, true];
    }""",
    Output("data-dataset", "value", allow_duplicate=True),
    Output("sel-dataset", "data"),
    Output("data-opened", "data"),
    Input("data-current", "data"),
    State("sel-dataset", "data"),
    State("data-dataset", "options"),
    State("data-opened", "data"),
    prevent_initial_call="initial_duplicate",
)


@callback(
    Output("data-hist", "figure"),
    Input("data-hist-col", "value"),
    Input("data-current", "data"),
    prevent_initial_call=True,  # nothing to draw before the data set is loaded
)
def draw_histogram(column, current):
    return dv.histogram_for(get_client(), current, column)


@callback(
    Output("data-scatter", "figure"),
    Input("data-x", "value"),
    Input("data-y", "value"),
    Input("data-current", "data"),
    prevent_initial_call=True,
)
def draw_scatter(x, y, current):
    return dv.scatter_for(get_client(), current, x, y)


# a new data set: the grid forgets its blocks and asks for page 1 (the layout has the first)
_BLOCKS = serve_blocks("data-table", Input("data-current", "data"))


@callback(
    Output("data-table", "getRowsResponse"),
    _BLOCKS,
    State("data-current", "data"),
    prevent_initial_call=True,
)
def table_rows(request, current):
    """Server-side paging and sorting: the grid asks for one block (15 rows) at a time."""
    # before the data set is loaded: no rows yet (the grid asks again, reset below; never leave
    # a block request unanswered: AG Grid would wait for it forever)
    return dv.table_block(get_client(), current, request)
