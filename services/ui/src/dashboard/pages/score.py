"""Score page: one field per independent feature (the derived ones computed and shown), or a
pasted CSV line; shows the predicted class and the probability of every class. The fields come
from the API's ``GET /api/schema`` when the page is shown (retried while the API is down)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html
from dash.exceptions import PreventUpdate
from dashboard.api import get_client
from dashboard.components.figures import probability_figure
from dashboard.components.layout import card, page_header
from dashboard.views import score_view as sv

dash.register_page(__name__, path="/score", name="Score", title="Score · Iris monitor", order=3)

_INPUTS = {"type": sv.INPUT_TYPE, "name": ALL}


def _names(specs: list[dict[str, Any]]) -> list[str]:
    """The input names in the order Dash passes their values (the order of the form)."""
    return [spec["id"]["name"] for spec in specs]


def layout(**_: Any) -> html.Div:
    view = sv.first_view(get_client())  # the whole first view: no callback chain on load
    source = card(
        "Model and example row",
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("Model", className="small fw-bold mb-1"),
                        dcc.Dropdown(
                            options=view["models"],
                            value=view["model"],
                            id="score-model",
                            placeholder="Choose a ready model",
                            clearable=False,
                        ),
                    ],
                    md=5,
                ),
                dbc.Col(
                    [
                        dbc.Label("Prefill from data set", className="small fw-bold mb-1"),
                        dcc.Dropdown(
                            options=view["datasets"],
                            value=view["dataset"],
                            id="score-dataset",
                            clearable=False,
                        ),
                    ],
                    md=4,
                ),
                dbc.Col(
                    [
                        dbc.Label("Row", className="small fw-bold mb-1", html_for="score-row"),
                        dbc.InputGroup(
                            [
                                dbc.Input(id="score-row", type="number", min=0, step=1, value=0),
                                dbc.Button(
                                    "Prefill", id="score-prefill", color="secondary", outline=True
                                ),
                            ]
                        ),
                    ],
                    md=3,
                ),
            ],
            className="g-3",
        ),
    )
    form = card(
        "Features",
        [
            html.Div(view["form"], id="score-inputs"),
            # Retries building the form while the API is not reachable, then stops.
            dcc.Interval(id="score-schema-retry", interval=3000, disabled=view["ready"]),
            dbc.Button("Score", id="score-submit", color="primary", className="px-4"),
        ],
        subtitle="The independent inputs (from the API's schema); the others are derived",
    )
    derived = card(
        "Derived features",
        html.Div(view["derived"], id="score-derived"),
        subtitle="Computed as the data set defines them",
    )
    csv = card(
        "Or paste a CSV line",
        [
            dbc.Textarea(
                id="score-csv",
                value=view["csv"],
                rows=3,
                className="font-monospace small mb-2",
                placeholder="20 comma-separated values in CSV column order "
                "(a leading species name is ignored)",
            ),
            dbc.Button("Score CSV line", id="score-csv-submit", color="primary", outline=True),
        ],
    )
    result = card(
        "Prediction",
        dcc.Loading(
            html.Div(
                dcc.Graph(figure=probability_figure({}, None), config={"displaylogo": False}),
                id="score-result",
            )
        ),
    )
    return html.Div(
        [
            page_header("Score", "Classify one flower with a trained model."),
            dcc.Store(id="score-actual", data=view["actual"]),
            html.Div(view["alert"], id="score-alert"),
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
    Output("score-model", "value"),
    Output("score-dataset", "value"),
    Input("score-model", "id"),
    State("sel-model", "data"),
    State("sel-dataset", "data"),
    State("score-model", "options"),
    State("score-dataset", "options"),
    State("score-model", "value"),
    State("score-dataset", "value"),
)


@callback(
    Output("score-inputs", "children"),
    Output("score-schema-retry", "disabled"),
    Input("score-schema-retry", "n_intervals"),
    prevent_initial_call=True,  # the layout has the form (or, API down, retries every 3 s)
)
def build_form(_n):
    """The form's fields from ``GET /api/schema`` (or why not, retried until the API answers)."""
    body, ready = sv.form_inputs(get_client())
    return body, ready


@callback(
    Output(_INPUTS, "value"),
    Output("score-actual", "data"),
    Output("score-csv", "value"),
    Output("score-alert", "children", allow_duplicate=True),
    Input("score-prefill", "n_clicks"),
    Input("score-dataset", "value"),
    Input("score-inputs", "children"),  # the form appeared: fill it if a data set is chosen
    State("score-row", "value"),
    prevent_initial_call=True,
)
def prefill(_n, dataset_id, _form, row):
    names = _names(ctx.outputs_list[0])
    values, actual, csv_line, alert = sv.prefill(get_client(), dataset_id, row, names)
    return values, actual, csv_line, alert


@callback(
    Output("score-derived", "children"),
    Input(_INPUTS, "value"),
    prevent_initial_call=True,  # the layout has the first row's derived features
)
def show_derived(values):
    names = _names(ctx.inputs_list[0])
    if not names:  # the form is not built yet
        raise PreventUpdate
    return sv.derived_table(get_client(), names, values)


@callback(
    Output("score-result", "children"),
    Input("score-submit", "n_clicks"),
    Input("score-csv-submit", "n_clicks"),
    State("score-model", "value"),
    State(_INPUTS, "value"),
    State("score-csv", "value"),
    State("score-actual", "data"),
    prevent_initial_call=True,
)
def do_score(form_clicks, csv_clicks, model_id, values, csv_line, actual):
    if not (form_clicks or csv_clicks):  # a page render, not a click
        raise PreventUpdate
    names = _names(ctx.states_list[1])
    return sv.score(get_client(), ctx.triggered_id, model_id, names, values, csv_line, actual)
