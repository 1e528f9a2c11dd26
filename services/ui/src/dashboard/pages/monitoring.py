"""Monitoring page: accuracy and flagged share per run over time; one run's score records and
the retrain candidates the flagger copied from the table's stream, refreshing on their own."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html
from dashboard.api import get_client
from dashboard.components.grid import DANGER_ROW, DANGER_TEXT, block_stores, grid, serve_blocks
from dashboard.components.layout import card, page_header
from dashboard.config import get_settings
from dashboard.views import monitoring_view as mon

dash.register_page(
    __name__, path="/monitoring", name="Monitoring", title="Monitoring · Iris monitor", order=5
)

OVERVIEW_POLL_MS = 10_000


def _retrain_card(run_id: str | None) -> dbc.Card:
    """The selected run's way into the Retrain page (triage, review, versions, promotion)."""
    return card(
        "Close the loop",
        html.Div(mon.retrain_link(run_id), id="mon-retrain"),
        subtitle="Triage the flagged records (wrong label or wrong model?), review them, "
        "retrain a new version, compare it fairly and promote it",
    )


def layout(**_: Any) -> html.Div:
    # the newest run, drawn in the layout itself (one GET /api/runs): no callback round trip
    # after load before the figure and the grids; a tab that remembers another run switches
    # to it below and redraws through refresh_overview
    view = mon.first_view(get_client())
    figure, rows, alert, options, value, summary, shown, first, candidate_rows, reasons = view
    runs_table = grid(
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
            {"headerName": "Retrain", "field": "retrain", "cellRenderer": "markdown"},
        ],
        rows=rows,
        page_size=5,
        filterable=True,
    )
    candidates = grid(
        "mon-candidates",
        [
            ("Row", "row"),
            ("Predicted", "predicted"),
            ("Actual", "actual"),
            ("Probability", "probability"),
            ("Reasons", "reasons"),
            ("Flagged at (UTC)", "flagged_at"),
        ],
        rows=candidate_rows,
        page_size=10,
        numeric=["probability"],
        filterable=True,
        row_styles=[
            ("params.data && params.data.reasons.indexOf('misclassified') >= 0", DANGER_ROW)
        ],
    )
    # up to thousands of records: paged and sorted on the server, one page in the browser
    records = grid(
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
        server_side=True,
        numeric=["probability"],
        row_styles=[("params.data && params.data.match === '✗'", DANGER_TEXT)],
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
            dcc.Store(id="mon-shown", data=shown),
            dcc.Interval(id="mon-poll", interval=get_settings().monitoring_poll_ms),
            dcc.Interval(id="mon-poll-slow", interval=OVERVIEW_POLL_MS),
            html.Div(alert, id="mon-alert"),
            card(
                "Runs over time",
                [
                    dcc.Graph(
                        id="mon-runs-graph",
                        figure=figure,
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
                        options=options,
                        value=value,
                        id="mon-run",
                        placeholder="Choose a run",
                        clearable=False,
                        className="mb-3",
                    ),
                    html.Div(summary, id="mon-summary"),
                    html.Div(
                        reasons,
                        className="small text-muted mt-1",
                        id="mon-reasons",
                    ),
                ],
                subtitle="Refreshes every few seconds while the stream catches up",
            ),
            _retrain_card(value),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Retrain candidates",
                            candidates,
                            subtitle="Misclassified or below the confidence threshold "
                            f"(the first {mon.CANDIDATES_SHOWN}; all on the Retrain page)",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        card(
                            "Score records",
                            [records, *block_stores("mon-records", first)],
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
    prevent_initial_call=True,  # the intervals start enabled, as the switch does
)
def toggle_auto(auto):
    return not auto, not auto


@callback(
    Output("mon-runs-graph", "figure"),
    Output("mon-runs-table", "rowData"),
    Output("mon-alert", "children"),
    Output("mon-run", "options"),
    Output("mon-run", "value"),
    Output("mon-summary", "children"),
    Output("mon-shown", "data"),
    Input("mon-poll-slow", "n_intervals"),
    Input("mon-refresh", "n_clicks"),
    Input("mon-run", "value"),
    State("sel-run", "data"),
    State("mon-run", "options"),
    prevent_initial_call=True,  # the layout draws the first view
)
def refresh_overview(_n, _clicks, selected, remembered, options):
    """Runs, picker and — for a new or picked run — its KPIs, in one round trip. The picker's
    value is an input here (not of the run's poll below): one writer of ``mon-shown`` per step,
    so the grids that follow it are not held back waiting for a second one."""
    picked = ctx.triggered_id == "mon-run"
    return mon.overview(get_client(), selected, remembered, options, picked)


@callback(
    Output("mon-summary", "children", allow_duplicate=True),
    Output("mon-shown", "data", allow_duplicate=True),
    Output("mon-alert", "children", allow_duplicate=True),
    Input("mon-poll", "n_intervals"),
    Input("mon-refresh", "n_clicks"),
    State("mon-run", "value"),
    State("mon-shown", "data"),
    prevent_initial_call=True,
)
def refresh_run(_n, _clicks, run_id, shown):
    """The selected run's live counts every two seconds (one small call)."""
    return mon.run_detail(get_client(), run_id, shown)


@callback(
    Output("mon-candidates", "rowData"),
    Output("mon-reasons", "children"),
    Input("mon-shown", "data"),
    prevent_initial_call=True,  # the layout lists the first run's candidates
)
def refresh_candidates(shown):
    """Re-read the candidates only when the run or their number changed."""
    return mon.candidates_view(get_client(), shown)


# the run or its number of records changed: the records grid asks for page 1 again
_BLOCKS = serve_blocks("mon-records", Input("mon-shown", "data"))


@callback(
    Output("mon-records", "getRowsResponse"),
    _BLOCKS,
    State("mon-shown", "data"),
    prevent_initial_call=True,
)
def records_block(request, shown):
    """Server-side paging and sorting of the run's score records, one block at a time."""
    # no run shown yet: no rows (asked again, reset below; a block request is always answered)
    return mon.records_block(get_client(), shown, request)


# this tab's last run (the Test page remembers it), if the layout shows another one
clientside_callback(
    """function (_id, remembered, options, shown) {
      const known = (options || []).some(o => o.value === remembered);
      return known && remembered !== shown ? remembered : window.dash_clientside.no_update;
    }""",
    Output("mon-run", "value"),
    Input("mon-run", "id"),
    State("sel-run", "data"),
    State("mon-run", "options"),
    State("mon-run", "value"),
)


@callback(
    Output("mon-retrain", "children"),
    Input("mon-run", "value"),
    prevent_initial_call=True,  # the layout has the first run's link
)
def retrain_link(run_id):
    return mon.retrain_link(run_id)
