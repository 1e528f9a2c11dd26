"""Test page: batch-test a model on a data set (optionally flipping a share of the labels to
exercise the retrain flagger); accuracy, confusion matrix, per-class metrics, score-log progress."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate
from dashboard.api import get_client
from dashboard.components.layout import card, page_header
from dashboard.components.pickers import pickers
from dashboard.config import get_settings
from dashboard.views import test_view as tv

dash.register_page(__name__, path="/test", name="Test", title="Test · Iris monitor", order=4)


def layout(**_: Any) -> html.Div:
    controls = card(
        "Batch test",
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Model", className="small fw-bold mb-1"),
                        dcc.Dropdown(
                            options=[],
                            id="test-model",
                            placeholder="Choose a ready model",
                            clearable=False,
                        ),
                    ],
                    lg=4,
                ),
                dbc.Col(
                    [
                        dbc.Label("Data set", className="small fw-bold mb-1"),
                        dcc.Dropdown(options=[], id="test-dataset", clearable=False),
                    ],
                    lg=3,
                ),
                dbc.Col(
                    [
                        dbc.Label(
                            "Flip a share of the labels",
                            className="small fw-bold mb-1",
                            html_for="test-flip",
                        ),
                        dbc.InputGroup(
                            [
                                dbc.Input(
                                    id="test-flip", type="number", min=0, max=1, step=0.05, value=0
                                ),
                                dbc.InputGroupText("0 to 1"),
                            ]
                        ),
                        dbc.FormText("Relabels rows to another class: they get flagged"),
                    ],
                    lg=2,
                ),
                dbc.Col(
                    [
                        dbc.Label("Seed", className="small fw-bold mb-1", html_for="test-seed"),
                        dbc.Input(id="test-seed", type="number", step=1, placeholder="random"),
                    ],
                    lg=1,
                ),
                dbc.Col(
                    dbc.Button("Run test", id="test-run", color="primary", className="w-100"),
                    lg=2,
                    className="d-flex align-items-center pt-3",
                ),
            ],
            className="g-3",
        ),
        subtitle="Every prediction is logged to the score table; the flagger reads its stream",
    )
    logging = card(
        "Score log",
        html.Div(id="test-logging"),
        subtitle="Records of this run written to DynamoDB",
        actions=dbc.Button(
            "Open in Monitoring →",
            href="/monitoring",
            color="link",
            size="sm",
            id="test-to-monitoring",
        ),
    )
    return html.Div(
        [
            page_header("Test", "Measure a model on a whole data set and log every prediction."),
            dcc.Store(id="test-run-id"),
            dcc.Interval(id="test-poll", interval=get_settings().training_poll_ms, disabled=True),
            html.Div(id="test-alert"),
            controls,
            card("Result", dcc.Loading(html.Div(id="test-result"), delay_show=200)),
            logging,
        ]
    )


@callback(
    Output("test-model", "options"),
    Output("test-model", "value"),
    Output("test-dataset", "options"),
    Output("test-dataset", "value"),
    Output("test-alert", "children"),
    Input("test-model", "id"),
    State("sel-model", "data"),
    State("sel-dataset", "data"),
)
def fill_pickers(_id, remembered_model, remembered_dataset):
    return pickers(get_client(), remembered_model, remembered_dataset)


@callback(
    Output("test-result", "children"),
    Output("test-run-id", "data"),
    Input("test-run", "id"),
    State("sel-run", "data"),
)
def show_previous(_id, remembered_run):
    return tv.show_previous(get_client(), remembered_run), remembered_run


@callback(
    Output("test-result", "children", allow_duplicate=True),
    Output("sel-run", "data"),
    Output("test-alert", "children", allow_duplicate=True),
    Input("test-run", "n_clicks"),
    State("test-model", "value"),
    State("test-dataset", "value"),
    State("test-flip", "value"),
    State("test-seed", "value"),
    prevent_initial_call=True,
)
def run_test(clicks, model_id, dataset_id, flip, seed):
    if not clicks:  # a page render, not a click
        raise PreventUpdate
    return tv.run_test(get_client(), model_id, dataset_id, flip, seed)


@callback(
    Output("test-run-id", "data", allow_duplicate=True),
    Input("sel-run", "data"),
    prevent_initial_call=True,
)
def follow_new_run(run_id):
    return run_id


@callback(
    Output("test-logging", "children"),
    Output("test-poll", "disabled"),
    Input("test-run-id", "data"),
    Input("test-poll", "n_intervals"),
)
def poll_logging(run_id, _n):
    return tv.poll_logging(get_client(), run_id)
