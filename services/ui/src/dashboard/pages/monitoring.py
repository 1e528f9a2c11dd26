"""Monitoring page: accuracy and flagged share per run over time; one run's score records and
the retrain candidates the flagger copied from the table's stream, refreshing on their own."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.grid import DANGER_ROW, DANGER_TEXT, block_stores, grid, serve_blocks
from dashboard.components.layout import card, page_header
from dashboard.config import get_settings
from dashboard.logic import monitoring as logic

dash.register_page(
    __name__,
    path="/monitoring",
    name="Monitoring",
    title="Monitoring · Iris monitor",
    order=5,
    graphs=True,  # drawn in the first view: plotly.js starts early (app.py)
    grids=True,  # likewise AG Grid's code
)

ID = ids.Monitoring
OVERVIEW_POLL_MS = 10_000


def _retrain_card(run_id: str | None) -> dbc.Card:
    """The selected run's way into the Retrain page (triage, review, versions, promotion)."""
    return card(
        "Close the loop",
        html.Div(logic.retrain_link(run_id), id=ID.RETRAIN),
        subtitle="Triage the flagged records (wrong label or wrong model?), review them, "
        "retrain a new version, compare it fairly and promote it",
    )


def layout(**_: Any) -> html.Div:
    # the newest run, drawn in the layout itself (one GET /api/runs): no callback round trip
    # after load before the figure and the grids; a tab that remembers another run switches
    # to it below and redraws through refresh_overview
    view = logic.first_view(get_client())
    runs_table = grid(
        ID.RUNS_TABLE,
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
            {"headerName": "Retrain", "field": "retrain", "cellRenderer": "markdown"},
        ],
        rows=view.runs,
        page_size=5,
        filterable=True,
    )
    candidates = grid(
        ID.CANDIDATES,
        [
            ("Row", "row"),
            ("Predicted", "predicted"),
            ("Actual", "actual"),
            ("Probability", "probability"),
            ("Reasons", "reasons"),
            ("Flagged at (UTC)", "flagged_at"),
        ],
        rows=view.candidates,
        page_size=10,
        numeric=["probability"],
        filterable=True,
        row_styles=[
            ("params.data && params.data.reasons.indexOf('misclassified') >= 0", DANGER_ROW)
        ],
    )
    # up to thousands of records: paged and sorted on the server, one page in the browser
    records = grid(
        ID.RECORDS,
        [
            ("Row", "row"),
            ("Predicted", "predicted"),
            ("Actual", "actual"),
            ("Probability", "probability"),
            ("Match", "match"),
            ("Logged at (UTC)", "created_at"),
        ],
        page_size=logic.RECORDS_PAGE_SIZE,
        server_side=True,
        numeric=["probability"],
        row_styles=[("params.data && params.data.match === '✗'", DANGER_TEXT)],
    )
    controls = html.Div(
        [
            dbc.Switch(id=ID.AUTO, label="Auto-refresh", value=True, className="mb-0 me-3"),
            dbc.Button("Refresh", id=ID.REFRESH, size="sm", color="secondary", outline=True),
        ],
        className="d-flex align-items-center",
    )
    return html.Div(
        [
            page_header(
                "Monitoring",
                "Model quality over time and the records the flagger marked for retraining.",
            ),
            dcc.Store(id=ID.SHOWN, data=view.shown),
            dcc.Interval(id=ID.POLL, interval=get_settings().monitoring_poll_ms),
            dcc.Interval(id=ID.POLL_SLOW, interval=OVERVIEW_POLL_MS),
            html.Div(view.alert, id=ID.ALERT),
            card(
                "Runs over time",
                [
                    dcc.Graph(
                        id=ID.RUNS_GRAPH,
                        figure=view.figure,
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
                        options=view.run_options,
                        value=view.run,
                        id=ID.RUN,
                        placeholder="Choose a run",
                        clearable=False,
                        className="mb-3",
                    ),
                    html.Div(view.summary, id=ID.SUMMARY),
                    html.Div(
                        view.reasons,
                        className="small text-muted mt-1",
                        id=ID.REASONS,
                    ),
                ],
                subtitle="Refreshes every few seconds while the stream catches up",
            ),
            _retrain_card(view.run),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Retrain candidates",
                            candidates,
                            subtitle="Misclassified or below the confidence threshold "
                            f"(the first {logic.CANDIDATES_SHOWN}; all on the Retrain page)",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        card(
                            "Score records",
                            [records, *block_stores(ID.RECORDS, view.first)],
                            subtitle="Every prediction of the run, from the score table",
                        ),
                        lg=6,
                    ),
                ]
            ),
        ]
    )


@callback(
    output=dict(poll_off=Output(ID.POLL, "disabled"), slow_off=Output(ID.POLL_SLOW, "disabled")),
    inputs=[Input(ID.AUTO, "value")],
    prevent_initial_call=True,  # the intervals start enabled, as the switch does
)
def toggle_auto(auto):
    return {"poll_off": not auto, "slow_off": not auto}


@callback(
    output=dict(
        figure=Output(ID.RUNS_GRAPH, "figure"),
        runs=Output(ID.RUNS_TABLE, "rowData"),
        alert=Output(ID.ALERT, "children"),
        run_options=Output(ID.RUN, "options"),
        run=Output(ID.RUN, "value"),
        summary=Output(ID.SUMMARY, "children"),
        shown=Output(ID.SHOWN, "data"),
    ),
    inputs=[
        Input(ID.POLL_SLOW, "n_intervals"),
        Input(ID.REFRESH, "n_clicks"),
        Input(ID.RUN, "value"),
    ],
    state=[State(ids.Tab.RUN, "data"), State(ID.RUN, "options")],
    prevent_initial_call=True,  # the layout draws the first view
)
def refresh_overview(_n, _clicks, selected, remembered, options):
    """Runs, picker and — for a new or picked run — its KPIs, in one round trip. The picker's
    value is an input here (not of the run's poll below): one writer of ``mon-shown`` per step,
    so the grids that follow it are not held back waiting for a second one."""
    picked = ctx.triggered_id == ID.RUN
    return logic.overview(get_client(), selected, remembered, options, picked)._asdict()


@callback(
    output=dict(
        summary=Output(ID.SUMMARY, "children", allow_duplicate=True),
        shown=Output(ID.SHOWN, "data", allow_duplicate=True),
        alert=Output(ID.ALERT, "children", allow_duplicate=True),
    ),
    inputs=[Input(ID.POLL, "n_intervals"), Input(ID.REFRESH, "n_clicks")],
    state=[State(ID.RUN, "value"), State(ID.SHOWN, "data")],
    prevent_initial_call=True,
)
def refresh_run(_n, _clicks, run_id, shown):
    """The selected run's live counts every two seconds (one small call)."""
    return logic.run_detail(get_client(), run_id, shown)._asdict()


@callback(
    output=dict(rows=Output(ID.CANDIDATES, "rowData"), reasons=Output(ID.REASONS, "children")),
    inputs=[Input(ID.SHOWN, "data")],
    prevent_initial_call=True,  # the layout lists the first run's candidates
)
def refresh_candidates(shown):
    """Re-read the candidates only when the run or their number changed."""
    return logic.candidates_view(get_client(), shown)._asdict()


# the run's score records, one block at a time; the run or its number of records changed: the
# records grid asks for page 1 again
serve_blocks(ID.RECORDS, Input(ID.SHOWN, "data"), logic.records_block)


# this tab's last run (the Test page remembers it), if the layout shows another one
clientside_callback(
    """function (_id, remembered, options, shown) {
      const known = (options || []).some(o => o.value === remembered);
      return known && remembered !== shown ? remembered : window.dash_clientside.no_update;
    }""",
    Output(ID.RUN, "value"),
    Input(ID.RUN, "id"),
    State(ids.Tab.RUN, "data"),
    State(ID.RUN, "options"),
    State(ID.RUN, "value"),
)


@callback(
    Output(ID.RETRAIN, "children"),
    Input(ID.RUN, "value"),
    prevent_initial_call=True,  # the layout has the first run's link
)
def retrain_link(run_id):
    return logic.retrain_link(run_id)
