"""Test page: batch-test a model on a data set (optionally flipping a share of the labels to
exercise the retrain flagger); accuracy, confusion matrix, per-class metrics, score-log progress."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.layout import card, labelled, page_header
from dashboard.components.pickers import pickers
from dashboard.config import get_settings
from dashboard.logic import test as logic

dash.register_page(__name__, path="/test", name="Test", title="Test · Iris monitor", order=4)

ID = ids.Test


def layout(**_: Any) -> html.Div:
    controls = card(
        "Batch test",
        dbc.Row(
            [
                labelled(
                    "Model",
                    dcc.Dropdown(
                        options=[], id=ID.MODEL, placeholder="Choose a ready model", clearable=False
                    ),
                    lg=4,
                ),
                labelled(
                    "Data set", dcc.Dropdown(options=[], id=ID.DATASET, clearable=False), lg=3
                ),
                labelled(
                    "Flip a share of the labels",
                    dbc.InputGroup(
                        [
                            dbc.Input(id=ID.FLIP, type="number", min=0, max=1, step=0.05, value=0),
                            dbc.InputGroupText("0 to 1"),
                        ]
                    ),
                    dbc.FormText("Relabels rows to another class: they get flagged"),
                    html_for=ID.FLIP,
                    lg=2,
                ),
                labelled(
                    "Seed",
                    dbc.Input(id=ID.SEED, type="number", step=1, placeholder="random"),
                    html_for=ID.SEED,
                    lg=1,
                ),
                dbc.Col(
                    dbc.Button("Run test", id=ID.RUN, color="primary", className="w-100"),
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
        html.Div(id=ID.LOGGING),
        subtitle="Records of this run written to DynamoDB",
        actions=dbc.Button(
            "Open in Monitoring →",
            href="/monitoring",
            color="link",
            size="sm",
            id=ID.TO_MONITORING,
        ),
    )
    return html.Div(
        [
            page_header("Test", "Measure a model on a whole data set and log every prediction."),
            dcc.Store(id=ID.RUN_ID),
            dcc.Interval(id=ID.POLL, interval=get_settings().training_poll_ms, disabled=True),
            html.Div(id=ID.ALERT),
            controls,
            card("Result", dcc.Loading(html.Div(id=ID.RESULT), delay_show=200)),
            logging,
        ]
    )


@callback(
    output=dict(
        model_options=Output(ID.MODEL, "options"),
        model=Output(ID.MODEL, "value"),
        dataset_options=Output(ID.DATASET, "options"),
        dataset=Output(ID.DATASET, "value"),
        alert=Output(ID.ALERT, "children"),
    ),
    inputs=[Input(ID.MODEL, "id")],
    state=[State(ids.Tab.MODEL, "data"), State(ids.Tab.DATASET, "data")],
)
def fill_pickers(_id, remembered_model, remembered_dataset):
    return pickers(get_client(), remembered_model, remembered_dataset)._asdict()


@callback(
    output=dict(result=Output(ID.RESULT, "children"), run=Output(ID.RUN_ID, "data")),
    inputs=[Input(ID.RUN, "id")],
    state=[State(ids.Tab.RUN, "data")],
)
def show_previous(_id, remembered_run):
    return {"result": logic.show_previous(get_client(), remembered_run), "run": remembered_run}


@callback(
    output=dict(
        result=Output(ID.RESULT, "children", allow_duplicate=True),
        run=Output(ids.Tab.RUN, "data"),
        alert=Output(ID.ALERT, "children", allow_duplicate=True),
    ),
    inputs=[Input(ID.RUN, "n_clicks")],
    state=[
        State(ID.MODEL, "value"),
        State(ID.DATASET, "value"),
        State(ID.FLIP, "value"),
        State(ID.SEED, "value"),
    ],
    prevent_initial_call=True,
)
def run_test(clicks, model_id, dataset_id, flip, seed):
    if not clicks:  # a page render, not a click
        raise PreventUpdate
    return logic.run_test(get_client(), model_id, dataset_id, flip, seed)._asdict()


@callback(
    Output(ID.RUN_ID, "data", allow_duplicate=True),
    Input(ids.Tab.RUN, "data"),
    prevent_initial_call=True,
)
def follow_new_run(run_id):
    return run_id


@callback(
    output=dict(view=Output(ID.LOGGING, "children"), done=Output(ID.POLL, "disabled")),
    inputs=[Input(ID.RUN_ID, "data"), Input(ID.POLL, "n_intervals")],
)
def poll_logging(run_id, _n):
    return logic.poll_logging(get_client(), run_id)._asdict()
