"""Models page: create a model with hyper-parameters, list models, follow training live, retrain.

Training runs in model_api's background; this page polls ``GET /api/models`` and the selected
model every second while anything is queued or training, and stops polling when all are done.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html
from dash.exceptions import PreventUpdate
from dashboard.api_client import get_client
from dashboard.config import get_settings
from dashboard.views import models_view as mv
from dashboard.views.common import card, page_header

dash.register_page(__name__, path="/models", name="Models", title="Models · Iris monitor", order=2)

_TABLE_COLUMNS = [
    {"name": "#", "id": "id", "type": "numeric"},
    {"name": "Name", "id": "name"},
    {"name": "Status", "id": "status"},
    {"name": "Data set", "id": "dataset", "type": "numeric"},
    {"name": "Version", "id": "version", "type": "numeric"},
    {"name": "Epoch", "id": "epochs"},
    {"name": "Holdout acc.", "id": "holdout_accuracy"},
    {"name": "Train acc.", "id": "train_accuracy"},
    {"name": "Updated (UTC)", "id": "updated"},
]


def _field(label: str, component: Any, help_text: str | None = None) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=component.id, className="mb-1 small fw-bold"),
            component,
            dbc.FormText(help_text) if help_text else None,
        ],
        className="mb-2",
    )


def _create_form() -> list[Any]:
    return [
        _field("Data set", dcc.Dropdown(options=[], id="models-dataset", clearable=False)),
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


def _retrain_form() -> list[Any]:
    return [
        html.H6("Retrain this model", className="fw-bold"),
        html.P(
            "Trains the selected model further on a data set (for example after adding the "
            "retrain candidates). Empty fields keep the model's settings.",
            className="small text-muted",
        ),
        _field("Data set", dcc.Dropdown(options=[], id="models-retrain-dataset", clearable=False)),
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
        dbc.Button("Retrain", id="models-retrain", color="secondary", className="w-100 mt-2"),
    ]


def layout(**_: Any) -> html.Div:
    table = dash_table.DataTable(
        id="models-table",
        columns=_TABLE_COLUMNS,
        data=[],
        row_selectable="single",
        selected_rows=[],
        sort_action="native",
        page_size=8,
        style_table={"overflowX": "auto"},
        style_cell={
            "fontFamily": "inherit",
            "fontSize": "0.85rem",
            "padding": "6px 8px",
            "textAlign": "left",
        },
        style_header={"fontWeight": "bold", "backgroundColor": "#ecf0f1"},
        style_data_conditional=[
            {
                "if": {"filter_query": '{status} = "ready"', "column_id": "status"},
                "color": "#18bc9c",
                "fontWeight": "bold",
            },
            {
                "if": {"filter_query": '{status} = "training"', "column_id": "status"},
                "color": "#3498db",
                "fontWeight": "bold",
            },
            {
                "if": {"filter_query": '{status} = "failed"', "column_id": "status"},
                "color": "#e74c3c",
                "fontWeight": "bold",
            },
        ],
    )
    return html.Div(
        [
            page_header("Models", "Build a classifier on a data set, watch it train, retrain it."),
            dcc.Store(id="models-selected"),
            dcc.Store(id="models-want"),
            dcc.Interval(id="models-poll", interval=get_settings().training_poll_ms, disabled=True),
            html.Div(id="models-alert"),
            html.Div(id="models-list-alert"),
            html.Div(id="models-form-alert"),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "New model",
                            _create_form(),
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
                        dbc.Col(dcc.Loading(html.Div(id="models-detail"), delay_show=400), lg=9),
                        dbc.Col(_retrain_form(), lg=3, className="border-start"),
                    ],
                    className="g-4",
                ),
                subtitle="Live progress while training; loss and accuracy per epoch",
            ),
        ]
    )


@callback(
    Output("models-dataset", "options"),
    Output("models-dataset", "value"),
    Output("models-retrain-dataset", "options"),
    Output("models-retrain-dataset", "value"),
    Output("models-form-alert", "children"),
    Input("models-dataset", "id"),  # once, when the page is shown
    State("sel-dataset", "data"),
    State("models-dataset", "value"),
    State("models-retrain-dataset", "value"),
)
def dataset_pickers(_want, remembered, create_value, retrain_value):
    return mv.form_options(get_client(), remembered, create_value, retrain_value)


@callback(
    Output("models-alert", "children"),
    Output("models-want", "data"),
    Output("models-selected", "data", allow_duplicate=True),
    Output("sel-model", "data", allow_duplicate=True),
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
    return alert, chosen, chosen, chosen


@callback(
    Output("models-table", "data"),
    Output("models-table", "selected_rows"),
    Output("models-poll", "disabled"),
    Output("models-list-alert", "children"),
    Input("models-poll", "n_intervals"),
    Input("models-want", "data"),
    State("models-selected", "data"),
    State("sel-model", "data"),
)
def refresh_models(_n, want, selected, remembered):
    return mv.refresh(get_client(), want, selected, remembered)


@callback(
    Output("models-selected", "data"),
    Output("sel-model", "data"),
    Input("models-table", "selected_rows"),
    State("models-table", "data"),
)
def select_model(selected_rows, rows):
    model_id = mv.selection(rows, selected_rows)
    return model_id, model_id if model_id is not None else dash.no_update


@callback(
    Output("models-detail", "children"),
    Output("models-retrain", "disabled"),
    Input("models-selected", "data"),
    Input("models-poll", "n_intervals"),
)
def show_detail(model_id, _n):
    return mv.detail_for(get_client(), model_id)
