"""Monitoring page: accuracy and flagged share per run over time; one run's score records and
the retrain candidates the flagger copied from the table's stream, refreshing on their own."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html
from dash.exceptions import PreventUpdate
from dashboard.api_client import get_client
from dashboard.config import get_settings
from dashboard.figures import empty_figure
from dashboard.views import monitoring_view as mon
from dashboard.views.common import card, page_header

dash.register_page(
    __name__, path="/monitoring", name="Monitoring", title="Monitoring · Iris monitor", order=5
)

OVERVIEW_POLL_MS = 10_000
_CELL = {"fontFamily": "inherit", "fontSize": "0.85rem", "padding": "4px 8px", "textAlign": "left"}
_HEADER = {"fontWeight": "bold", "backgroundColor": "#ecf0f1"}


def _table(table_id: str, columns: list[tuple[str, str]], page_size: int = 10, **kw: Any):
    options = {"sort_action": "native", "filter_action": "native"} | kw
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": n, "id": i} for n, i in columns],
        data=[],
        page_size=page_size,
        style_table={"overflowX": "auto"},
        style_cell=_CELL,
        style_header=_HEADER,
        **options,
    )


def _retrain_card() -> dbc.Card:
    """Close the loop: the run's flagged records → a data set → retrain → re-test → compare."""
    controls = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Append to base data set (optional)", html_for="mon-rt-base"),
                    dcc.Dropdown(
                        options=[],
                        id="mon-rt-base",
                        placeholder="None: train on the flagged records only",
                        clearable=True,
                    ),
                ],
                md=8,
            ),
            dbc.Col(
                dbc.Button("Retrain on flagged records", id="mon-rt-go", color="primary"),
                md=4,
                className="d-flex align-items-end mt-2 mt-md-0",
            ),
        ],
        className="g-2 mb-3",
    )
    return card(
        "Retrain on flagged records",
        [
            dcc.Store(id="mon-rt-job"),
            dcc.Store(id="mon-rt-base-for"),
            dcc.Interval(id="mon-rt-poll", interval=get_settings().training_poll_ms, disabled=True),
            html.Div(id="mon-rt-alert"),
            controls,
            html.Div(mon.retrain_view(None), id="mon-rt-status"),
        ],
        subtitle="Retrain the selected run's model on its flagged records, then compare",
    )


def layout(**_: Any) -> html.Div:
    runs_table = _table(
        "mon-runs-table",
        [
            ("Run", "run_id"),
            ("Created (UTC)", "created_at"),
            ("Model", "model"),
            ("Data set", "dataset"),
            ("Rows", "rows"),
            ("Accuracy", "accuracy"),
            ("Logged", "logged"),
            ("Flagged", "flagged"),
            ("Flagged share", "flagged_share"),
        ],
        page_size=5,
    )
    candidates = _table(
        "mon-candidates",
        [
            ("Row", "row"),
            ("Predicted", "predicted"),
            ("Actual", "actual"),
            ("Probability", "probability"),
            ("Reasons", "reasons"),
            ("Flagged at (UTC)", "flagged_at"),
        ],
        style_data_conditional=[
            {
                "if": {"filter_query": '{reasons} contains "misclassified"'},
                "backgroundColor": "#fdecea",
            }
        ],
    )
    records = _table(
        "mon-records",
        [
            ("Row", "row"),
            ("Predicted", "predicted"),
            ("Actual", "actual"),
            ("Probability", "probability"),
            ("Match", "match"),
            ("Logged at (UTC)", "created_at"),
        ],
        page_size=mon.RECORDS_PAGE_SIZE,
        # up to thousands of records: paged and sorted on the server, one page in the browser
        page_action="custom",
        sort_action="custom",
        filter_action="none",
        sort_by=[],
        page_current=0,
        style_data_conditional=[{"if": {"filter_query": '{match} = "✗"'}, "color": "#e74c3c"}],
    )
    controls = html.Div(
        [
            dbc.Switch(id="mon-auto", label="Auto-refresh", value=True, className="mb-0 me-3"),
            dbc.Button("Refresh", id="mon-refresh", size="sm", color="secondary", outline=True),
        ],
        className="d-flex align-items-center",
    )
    return html.Div(
        [
            page_header(
                "Monitoring",
                "Model quality over time and the records the flagger marked for retraining.",
            ),
            dcc.Store(id="mon-shown"),
            dcc.Interval(id="mon-poll", interval=get_settings().monitoring_poll_ms),
            dcc.Interval(id="mon-poll-slow", interval=OVERVIEW_POLL_MS),
            html.Div(id="mon-alert"),
            card(
                "Runs over time",
                [
                    dcc.Graph(
                        id="mon-runs-graph",
                        figure=empty_figure("Loading runs…"),
                        config={"displaylogo": False},
                    ),
                    runs_table,
                ],
                actions=controls,
            ),
            card(
                "Run",
                [
                    dcc.Dropdown(
                        options=[],
                        id="mon-run",
                        placeholder="Choose a run",
                        clearable=False,
                        className="mb-3",
                    ),
                    html.Div(id="mon-summary"),
                ],
                subtitle="Refreshes every few seconds while the stream catches up",
            ),
            _retrain_card(),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Retrain candidates",
                            candidates,
                            subtitle="Misclassified or below the confidence threshold",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        card(
                            "Score records",
                            records,
                            subtitle="Every prediction of the run, from the score table",
                        ),
                        lg=6,
                    ),
                ]
            ),
        ]
    )


@callback(
    Output("mon-poll", "disabled"),
    Output("mon-poll-slow", "disabled"),
    Input("mon-auto", "value"),
)
def toggle_auto(auto):
    return not auto, not auto


@callback(
    Output("mon-runs-graph", "figure"),
    Output("mon-runs-table", "data"),
    Output("mon-alert", "children"),
    Input("mon-poll-slow", "n_intervals"),
    Input("mon-refresh", "n_clicks"),
)
def refresh_overview(_n, _clicks):
    return mon.overview(get_client())


@callback(
    Output("mon-run", "options"),
    Output("mon-run", "value"),
    Input("mon-poll-slow", "n_intervals"),
    Input("mon-refresh", "n_clicks"),
    State("mon-run", "value"),
    State("sel-run", "data"),
)
def refresh_run_picker(_n, _clicks, selected, remembered):
    return mon.run_picker(get_client(), selected, remembered)


@callback(
    Output("mon-summary", "children"),
    Output("mon-candidates", "data"),
    Output("mon-shown", "data"),
    Output("mon-alert", "children", allow_duplicate=True),
    Input("mon-run", "value"),
    Input("mon-poll", "n_intervals"),
    Input("mon-refresh", "n_clicks"),
    State("mon-shown", "data"),
    prevent_initial_call="initial_duplicate",
)
def refresh_run(run_id, _n, _clicks, shown):
    return mon.run_detail(get_client(), run_id, shown)


@callback(
    Output("mon-records", "data"),
    Output("mon-records", "page_count"),
    Output("mon-records", "page_current"),
    Input("mon-shown", "data"),
    Input("mon-records", "page_current"),
    Input("mon-records", "sort_by"),
    Input("mon-poll", "n_intervals"),
    State("mon-run", "value"),
    State("mon-records", "data"),
)
def records_page(_shown, page, sort_by, _tick, run_id, showing):
    """Server-side paging of the run's score records: re-read when their number changes, or on
    a tick while the table is still empty (a failed read heals itself)."""
    if ctx.triggered_id == "mon-poll" and (showing or not run_id):
        raise PreventUpdate
    return mon.records_page(get_client(), run_id, page, sort_by)


@callback(
    Output("mon-rt-base", "options"),
    Output("mon-rt-base", "value"),
    Output("mon-rt-base-for", "data"),
    Output("mon-rt-alert", "children"),
    Input("mon-run", "value"),
    State("mon-rt-base", "value"),
    State("mon-rt-base-for", "data"),
)
def retrain_base(run_id, current, current_for):
    return mon.retrain_base_options(get_client(), run_id, current, current_for)


@callback(
    Output("mon-rt-job", "data"),
    Output("mon-rt-status", "children"),
    Output("mon-rt-poll", "disabled"),
    Output("mon-rt-go", "disabled"),
    Output("mon-rt-alert", "children", allow_duplicate=True),
    Input("mon-rt-go", "n_clicks"),
    Input("mon-rt-poll", "n_intervals"),
    State("mon-run", "value"),
    State("mon-rt-base", "value"),
    State("mon-rt-job", "data"),
    prevent_initial_call=True,
)
def retrain_on_flagged(_clicks, _n, run_id, base_dataset_id, job):
    return mon.retrain_step(get_client(), ctx.triggered_id, run_id, base_dataset_id, job)
