"""Models page: create a model with hyper-parameters, list models, follow training live, retrain.

Training runs in model_api's background; this page polls ``GET /api/models`` and the selected
model every second while anything is queued or training, and stops polling when all are done.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from dashboard.api import get_client
from dashboard.components.grid import STATUS_TEXT, grid
from dashboard.components.layout import card, page_header
from dashboard.config import get_settings
from dashboard.views import models_view as mv

dash.register_page(__name__, path="/models", name="Models", title="Models · Iris monitor", order=2)

_TABLE_COLUMNS = [
    ("#", "id"),
    ("Name", "name"),
    ("Status", "status"),
    ("Data set", "dataset"),
    ("Version", "version"),
    ("Epoch", "epochs"),
    ("Holdout acc.", "holdout_accuracy"),
    ("Train acc.", "train_accuracy"),
    ("Updated (UTC)", "updated"),
]
_STATUS_STYLES = [(f"params.value === '{k}'", style) for k, style in STATUS_TEXT.items()]


def _field(label: str, component: Any, help_text: str | None = None) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=component.id, className="mb-1 small fw-bold"),
            component,
            dbc.FormText(help_text) if help_text else None,
        ],
        className="mb-2",
    )


def _create_form(options: list[Any], value: Any) -> list[Any]:
    return [
        _field(
            "Data set",
            dcc.Dropdown(options=options, value=value, id="models-dataset", clearable=False),
        ),
        _field(
            "Hidden layers",
            dbc.Input(id="models-layers", value="10, 10", type="text"),
            "Units per layer, comma separated",
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        "Epochs",
                        dbc.Input(
                            id="models-epochs", type="number", value=30, min=1, max=500, step=1
                        ),
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Batch size",
                        dbc.Input(id="models-batch", type="number", value=32, min=1, step=1),
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Learning rate",
                        dbc.Input(id="models-lr", type="number", value=0.01, min=0, step="any"),
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Validation split",
                        dbc.Input(
                            id="models-val", type="number", value=0.2, min=0, max=0.9, step=0.05
                        ),
                    ),
                    xs=6,
                ),
            ],
            className="g-2",
        ),
        _field(
            "Seed (optional)",
            dbc.Input(id="models-seed", type="number", step=1, placeholder="random"),
        ),
        dbc.Button("Create and train", id="models-create", color="primary", className="w-100 mt-2"),
    ]


def _retrain_form(options: list[Any], value: Any, disabled: bool) -> list[Any]:
    return [
        html.H6("Retrain this model", className="fw-bold"),
        html.P(
            "Trains the selected model further on a data set (for example after adding the "
            "retrain candidates). Empty fields keep the model's settings.",
            className="small text-muted",
        ),
        _field(
            "Data set",
            dcc.Dropdown(
                options=options, value=value, id="models-retrain-dataset", clearable=False
            ),
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        "Epochs",
                        dbc.Input(
                            id="models-retrain-epochs",
                            type="number",
                            min=1,
                            step=1,
                            placeholder="same",
                        ),
                    ),
                    xs=4,
                ),
                dbc.Col(
                    _field(
                        "Batch",
                        dbc.Input(
                            id="models-retrain-batch",
                            type="number",
                            min=1,
                            step=1,
                            placeholder="same",
                        ),
                    ),
                    xs=4,
                ),
                dbc.Col(
                    _field(
                        "LR",
                        dbc.Input(
                            id="models-retrain-lr",
                            type="number",
                            min=0,
                            step="any",
                            placeholder="same",
                        ),
                    ),
                    xs=4,
                ),
            ],
            className="g-2",
        ),
        dbc.Button(
            "Retrain",
            id="models-retrain",
            color="secondary",
            className="w-100 mt-2",
            disabled=disabled,
        ),
    ]


def layout(**_: Any) -> html.Div:
    # the newest model, its detail and curves in the layout itself (no callback chain on load)
    view = mv.first_view(get_client())
    table = grid(
        "models-table",
        _TABLE_COLUMNS,
        rows=view["rows"],
        page_size=8,
        select_single=True,
        row_id="key",
        cell_styles={"status": _STATUS_STYLES},
    )
    table.selectedRows = view["selected_rows"]
    forms = (view["dataset_options"], view["dataset"])
    return html.Div(
        [
            page_header("Models", "Build a classifier on a data set, watch it train, retrain it."),
            dcc.Store(id="models-selected", data=view["selected"]),
            dcc.Store(id="models-want"),
            dcc.Store(id="models-opened", data=False),
            dcc.Interval(
                id="models-poll",
                interval=get_settings().training_poll_ms,
                disabled=view["poll_disabled"],
            ),
            html.Div(id="models-alert"),
            html.Div(view["list_alert"], id="models-list-alert"),
            html.Div(view["form_alert"], id="models-form-alert"),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "New model",
                            _create_form(*forms),
                            subtitle="Dense ReLU layers → softmax over the species",
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        card("Models", table, subtitle="Select a row to see its training"), lg=8
                    ),
                ]
            ),
            card(
                "Training",
                dbc.Row(
                    [
                        dbc.Col(
                            dcc.Loading(
                                [
                                    html.Div(view["detail"], id="models-detail"),
                                    dcc.Graph(
                                        id="model-history",
                                        figure=view["figure"],
                                        config={"displaylogo": False},
                                    ),
                                ],
                                delay_show=400,
                            ),
                            lg=9,
                        ),
                        dbc.Col(
                            _retrain_form(*forms, view["retrain_disabled"]),
                            lg=3,
                            className="border-start",
                        ),
                    ],
                    className="g-4",
                ),
                subtitle="Live progress while training; loss and accuracy per epoch",
            ),
        ]
    )


# the tab's data set (``sel-dataset``), if it is another than the layout's newest one
clientside_callback(
    """function (_id, remembered, options) {
      const known = (options || []).some(o => o.value === remembered && !o.disabled);
      const nothing = window.dash_clientside.no_update;
      return known ? [remembered, remembered] : [nothing, nothing];
    }""",
    Output("models-dataset", "value"),
    Output("models-retrain-dataset", "value"),
    Input("models-dataset", "id"),  # once, when the page is shown
    State("sel-dataset", "data"),
    State("models-dataset", "options"),
)


@callback(
    Output("models-alert", "children"),
    Output("models-want", "data"),
    Output("models-selected", "data", allow_duplicate=True),
    Input("models-create", "n_clicks"),
    Input("models-retrain", "n_clicks"),
    State("models-selected", "data"),
    State("models-dataset", "value"),
    State("models-layers", "value"),
    State("models-epochs", "value"),
    State("models-batch", "value"),
    State("models-lr", "value"),
    State("models-val", "value"),
    State("models-seed", "value"),
    State("models-retrain-dataset", "value"),
    State("models-retrain-epochs", "value"),
    State("models-retrain-batch", "value"),
    State("models-retrain-lr", "value"),
    prevent_initial_call=True,
)
def create_or_retrain(
    create_clicks,
    retrain_clicks,
    selected,
    ds,
    layers,
    epochs,
    batch,
    lr,
    val,
    seed,
    rds,
    re,
    rb,
    rlr,
):
    """Start training in model_api's background; the poller shows the progress."""
    if not (create_clicks or retrain_clicks):  # a page render, not a click
        raise PreventUpdate
    alert, chosen = mv.act(
        get_client(),
        ctx.triggered_id,
        selected,
        (ds, layers, epochs, batch, lr, val, seed),
        (rds, re, rb, rlr),
    )
    # the new/retrained model becomes this tab's selection at once (not via the table)
    return alert, chosen, chosen


@callback(
    Output("models-table", "rowData"),
    Output("models-table", "selectedRows"),
    Output("models-poll", "disabled"),
    Output("models-list-alert", "children"),
    Output("models-selected", "data", allow_duplicate=True),
    Input("models-poll", "n_intervals"),
    Input("models-want", "data"),
    State("models-selected", "data"),
    State("sel-model", "data"),
    prevent_initial_call=True,  # the layout has the first rows and selection
)
def refresh_models(_n, want, selected, remembered):
    """The grid's rows and selection; the selected model goes to ``models-selected`` straight
    away (the detail loads in the same step, not after the grid echoes its selection back)."""
    rows, chosen, stop, alert = mv.refresh(get_client(), want, selected, remembered)
    model_id = mv.selected_model(chosen)
    if model_id == selected and ctx.triggered_id is not None:  # the detail already shows it
        return rows, chosen, stop, alert, no_update
    return rows, chosen, stop, alert, model_id


@callback(
    Output("models-selected", "data"),
    Input("models-table", "selectedRows"),
    State("models-selected", "data"),
    prevent_initial_call=True,
)
def select_model(selected_rows, current):
    """A row the user selected (the grid also echoes selections made by callbacks: those are
    already in ``models-selected``)."""
    model_id = mv.selection(selected_rows)
    if model_id is None or model_id == current:
        raise PreventUpdate
    return model_id


# The tab's model (``sel-model``, other pages read it) follows the one shown, written in the
# browser: a server callback with an output outside the page fires on every page load whatever
# its prevent_initial_call says (a round trip for nothing on two busy cores). When the page
# opens it shows the newest model; a tab that remembers another one switches to it (through
# ``models-want``: refresh_models selects it and the detail follows).
clientside_callback(
    """function (shown, remembered, rows, opened) {
      const nothing = window.dash_clientside.no_update;
      const known = (rows || []).some(r => r.id === remembered);
      if (!opened && known && remembered !== shown) { return [remembered, nothing, true]; }
      return [nothing, shown == null || shown === remembered ? nothing : shown, true];
    }""",
    Output("models-want", "data", allow_duplicate=True),
    Output("sel-model", "data"),
    Output("models-opened", "data"),
    Input("models-selected", "data"),
    State("sel-model", "data"),
    State("models-table", "rowData"),
    State("models-opened", "data"),
    prevent_initial_call="initial_duplicate",
)


@callback(
    Output("models-detail", "children"),
    Output("model-history", "figure"),
    Output("models-retrain", "disabled"),
    Input("models-selected", "data"),
    Input("models-poll", "n_intervals"),
    prevent_initial_call=True,  # the layout shows the first model
)
def show_detail(model_id, _n):
    return mv.detail_for(get_client(), model_id)
