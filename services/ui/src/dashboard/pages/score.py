"""Score page: one field per independent feature (the derived ones computed and shown), or a
pasted CSV line; shows the predicted class and the probability of every class. The fields come
from the API's ``GET /api/schema`` when the page is shown (retried while the API is down)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html
from dash.exceptions import PreventUpdate
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.figures import graph
from dashboard.components.layout import card, labelled, page_header
from dashboard.components.model_figures import probability_figure
from dashboard.logic import score as logic

dash.register_page(__name__, path="/score", name="Score", title="Score · Iris monitor", order=3)

ID = ids.Score
_INPUTS = {"type": ID.INPUT_TYPE, "name": ALL}


def _names(specs: list[dict[str, Any]]) -> list[str]:
    """The input names in the order Dash passes their values (the order of the form)."""
    return [spec["id"]["name"] for spec in specs]


def layout(**_: Any) -> html.Div:
    view = logic.first_view(get_client())  # the whole first view: no callback chain on load
    source = card(
        "Model and example row",
        dbc.Row(
            [
                labelled(
                    "Model",
                    dcc.Dropdown(
                        options=view["models"],
                        value=view["model"],
                        id=ID.MODEL,
                        placeholder="Choose a ready model",
                        clearable=False,
                    ),
                    md=5,
                ),
                labelled(
                    "Prefill from data set",
                    dcc.Dropdown(
                        options=view["datasets"],
                        value=view["dataset"],
                        id=ID.DATASET,
                        clearable=False,
                    ),
                    md=4,
                ),
                labelled(
                    "Row",
                    dbc.InputGroup(
                        [
                            dbc.Input(id=ID.ROW, type="number", min=0, step=1, value=0),
                            dbc.Button("Prefill", id=ID.PREFILL, color="secondary", outline=True),
                        ]
                    ),
                    html_for=ID.ROW,
                    md=3,
                ),
            ],
            className="g-3",
        ),
    )
    form = card(
        "Features",
        [
            html.Div(view["form"], id=ID.INPUTS),
            # Retries building the form while the API is not reachable, then stops.
            dcc.Interval(id=ID.SCHEMA_RETRY, interval=3000, disabled=view["ready"]),
            dbc.Button("Score", id=ID.SUBMIT, color="primary", className="px-4"),
        ],
        subtitle="The independent inputs (from the API's schema); the others are derived",
    )
    derived = card(
        "Derived features",
        html.Div(view["derived"], id=ID.DERIVED),
        subtitle="Computed as the data set defines them",
    )
    csv = card(
        "Or paste a CSV line",
        [
            dbc.Textarea(
                id=ID.CSV,
                value=view["csv"],
                rows=3,
                className="font-monospace small mb-2",
                placeholder="20 comma-separated values in CSV column order "
                "(a leading species name is ignored)",
            ),
            dbc.Button("Score CSV line", id=ID.CSV_SUBMIT, color="primary", outline=True),
        ],
    )
    result = card(
        "Prediction",
        dcc.Loading(
            html.Div(
                graph(figure=probability_figure({}, None)),
                id=ID.RESULT,
            )
        ),
    )
    return html.Div(
        [
            page_header("Score", "Classify one flower with a trained model."),
            dcc.Store(id=ID.ACTUAL, data=view["actual"]),
            html.Div(view["alert"], id=ID.ALERT),
            source,
            dbc.Row([dbc.Col([form, csv], lg=7), dbc.Col([result, derived], lg=5)]),
        ]
    )


# this tab's model and data set (other pages chose them), if the layout shows others; a new
# data set prefills the form again (through prefill)
clientside_callback(
    """function (_id, model, dataset, models, datasets, shownModel, shownDataset) {
      const nothing = window.dash_clientside.no_update;
      const pick = (opts, v, shown) => v != null && v !== shown &&
        (opts || []).some(o => o.value === v && !o.disabled) ? v : nothing;
      return [pick(models, model, shownModel), pick(datasets, dataset, shownDataset)];
    }""",
    Output(ID.MODEL, "value"),
    Output(ID.DATASET, "value"),
    Input(ID.MODEL, "id"),
    State(ids.Tab.MODEL, "data"),
    State(ids.Tab.DATASET, "data"),
    State(ID.MODEL, "options"),
    State(ID.DATASET, "options"),
    State(ID.MODEL, "value"),
    State(ID.DATASET, "value"),
)


@callback(
    output=dict(form=Output(ID.INPUTS, "children"), ready=Output(ID.SCHEMA_RETRY, "disabled")),
    inputs=[Input(ID.SCHEMA_RETRY, "n_intervals")],
    prevent_initial_call=True,  # the layout has the form (or, API down, retries every 3 s)
)
def build_form(_n):
    """The form's fields from ``GET /api/schema`` (or why not, retried until the API answers)."""
    return logic.form_inputs(get_client())._asdict()


@callback(
    output=dict(
        values=Output(_INPUTS, "value"),
        actual=Output(ID.ACTUAL, "data"),
        csv=Output(ID.CSV, "value"),
        alert=Output(ID.ALERT, "children", allow_duplicate=True),
    ),
    inputs=[
        Input(ID.PREFILL, "n_clicks"),
        Input(ID.DATASET, "value"),
        Input(ID.INPUTS, "children"),  # the form appeared: fill it if a data set is chosen
    ],
    state=[State(ID.ROW, "value")],
    prevent_initial_call=True,
)
def prefill(_n, dataset_id, _form, row):
    names = _names(ctx.outputs_grouping["values"])
    return logic.prefill(get_client(), dataset_id, row, names)._asdict()


@callback(
    Output(ID.DERIVED, "children"),
    Input(_INPUTS, "value"),
    prevent_initial_call=True,  # the layout has the first row's derived features
)
def show_derived(values):
    names = _names(ctx.inputs_list[0])
    if not names:  # the form is not built yet
        raise PreventUpdate
    return logic.derived_table(get_client(), names, values)


@callback(
    Output(ID.RESULT, "children"),
    Input(ID.SUBMIT, "n_clicks"),
    Input(ID.CSV_SUBMIT, "n_clicks"),
    State(ID.MODEL, "value"),
    State(_INPUTS, "value"),
    State(ID.CSV, "value"),
    State(ID.ACTUAL, "data"),
    prevent_initial_call=True,
)
def do_score(form_clicks, csv_clicks, model_id, values, csv_line, actual):
    if not (form_clicks or csv_clicks):  # a page render, not a click
        raise PreventUpdate
    names = _names(ctx.states_list[1])
    return logic.score(get_client(), ctx.triggered_id, model_id, names, values, csv_line, actual)
