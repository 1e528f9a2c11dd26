"""The Retrain page's cards (controls, grids and placeholders); ``pages/retrain.py`` wires their
callbacks. A module of its own because the page's layout and callbacks together pass 300 lines;
the leading underscore keeps Dash from taking it for a page."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from dashboard import ids
from dashboard.components.grid import grid
from dashboard.components.layout import bottom_aligned, card, labelled
from dashboard.config import get_settings
from dashboard.logic import retrain as logic

ID = ids.Retrain


def candidates_card() -> dbc.Card:
    filters = dbc.Row(
        [
            labelled(
                "Run",
                dcc.Dropdown(id=ID.RUN, options=[], clearable=False, placeholder="Choose a run"),
                lg=5,
            ),
            labelled(
                "Cause",
                dcc.Dropdown(
                    id=ID.CAUSE,
                    options=[{"label": v, "value": k} for k, v in logic.CAUSE_LABELS.items()],
                    placeholder="any",
                ),
                lg=2,
            ),
            labelled(
                "Reviewed",
                dcc.Dropdown(
                    id=ID.REVIEWED,
                    options=[
                        {"label": "not yet", "value": "false"},
                        {"label": "yes", "value": "true"},
                    ],
                    placeholder="any",
                ),
                lg=2,
            ),
            labelled("Class", dcc.Dropdown(id=ID.CLASS, options=[], placeholder="any"), lg=3),
        ],
        className="g-2 mb-2",
    )
    actions = dbc.Row(
        [
            dbc.Col(
                dbc.Button("Accept all label-error suggestions", id=ID.ACCEPT, color="primary"),
                width="auto",
            ),
            dbc.Col(
                dbc.ButtonGroup(
                    [
                        dbc.Button("Relabel selected", id=ID.RELABEL, color="secondary"),
                        dbc.Button("Keep selected", id=ID.KEEP, color="secondary", outline=True),
                        dbc.Button(
                            "Exclude selected", id=ID.EXCLUDE, color="secondary", outline=True
                        ),
                    ]
                ),
                width="auto",
            ),
            dbc.Col(
                dcc.Dropdown(id=ID.LABEL, options=[], placeholder="to the suggestion"), width=2
            ),
            dbc.Col(
                dbc.Input(id=ID.REVIEWER, placeholder="your name", value="", size="sm"), width=2
            ),
        ],
        className="g-2 mb-2 align-items-center",
    )
    return card(
        "Candidates",
        [
            dcc.Store(id=ID.CHANGED, data=0),
            filters,
            html.Div(id=ID.SUMMARY),
            actions,
            html.Div(id=ID.REVIEW_ALERT),
            candidates_grid(),
        ],
        subtitle="Triaged by confident learning (cleanlab) on the run's out-of-sample scores; "
        "unreviewed candidates never enter training",
    )


def retrain_card() -> dbc.Card:
    settings = get_settings()
    controls = dbc.Row(
        [
            labelled(
                "Base data set",
                dcc.Dropdown(id=ID.BASE, options=[], placeholder="the parent version's"),
                lg=5,
            ),
            labelled(
                "Weight (repeats of each candidate)",
                dbc.Input(id=ID.WEIGHT, type="number", min=1, max=20, value=1),
                lg=3,
            ),
            labelled(
                "Epochs",
                dbc.Input(id=ID.EPOCHS, type="number", min=1, placeholder="parent's"),
                lg=2,
            ),
            bottom_aligned(dbc.Button("Retrain a new version", id=ID.TRAIN, color="primary"), lg=2),
        ],
        className="g-2 mb-2",
    )
    return card(
        "Retrain",
        [
            dcc.Store(id=ID.JOB),
            dcc.Interval(id=ID.POLL, interval=settings.training_poll_ms, disabled=True),
            controls,
            html.Div(id=ID.TRAIN_ALERT),
            html.Div(logic.job_view(None), id=ID.JOB_VIEW),
        ],
        subtitle="A server-side job: it survives a closed tab and a model_api restart",
    )


def versions_card() -> dbc.Card:
    compare = dbc.Row(
        [
            labelled("Version A", dcc.Dropdown(id=ID.VERSION_A, options=[], clearable=False), lg=2),
            labelled("Version B", dcc.Dropdown(id=ID.VERSION_B, options=[], clearable=False), lg=2),
            labelled("Comparison data set", dcc.Dropdown(id=ID.COMPARE_DATASET, options=[]), lg=4),
            bottom_aligned(
                dbc.Switch(id=ID.EXCLUDE_TRAINED, label="leave out trained rows", value=False), lg=2
            ),
            bottom_aligned(dbc.Button("Compare", id=ID.COMPARE, color="primary"), lg=2),
        ],
        className="g-2 mb-2",
    )
    promote = dbc.Row(
        [
            labelled(
                "Promote version",
                dcc.Dropdown(id=ID.PROMOTE_VERSION, options=[], clearable=False),
                lg=2,
            ),
            bottom_aligned(dbc.Switch(id=ID.FORCE, label="force (recorded)", value=False), lg=2),
            bottom_aligned(dbc.Button("Promote", id=ID.PROMOTE, color="success"), lg=2),
            bottom_aligned(html.Div(id=ID.PROMOTED), lg=6),
        ],
        className="g-2 mb-3",
    )
    return card(
        "Versions",
        [
            dcc.Store(id=ID.MODEL),
            dcc.Store(id=ID.VERSIONS_CHANGED, data=0),
            html.Div(id=ID.VERSIONS_ALERT),
            versions_grid(),
            html.Div(id=ID.LINEAGE, className="mt-3"),
            html.Hr(),
            compare,
            html.Div(id=ID.COMPARISON),
            html.Hr(),
            promote,
        ],
        subtitle="Select a version for its lineage; compare two; promote one (rollback = promote "
        "an earlier one)",
    )


LABEL_ERROR = [("params.value == 'label error'", {"color": "#e74c3c", "fontWeight": "bold"})]


def candidates_grid() -> dag.AgGrid:
    columns = [
        ("Row", "row"),
        ("Actual", "actual"),
        ("Predicted", "predicted"),
        ("P", "probability"),
        ("Cause", "cause"),
        ("Label quality", "label_quality"),
        ("Suggestion", "suggestion"),
        ("Decision", "review"),
        {"headerName": "Why", "field": "why", "minWidth": 320, "tooltipField": "why"},
        ("Flags", "flags"),
    ]
    return grid(
        ID.GRID,
        columns,
        page_size=15,
        numeric=("row", "probability", "label_quality"),
        filterable=True,
        select_multi=True,
        row_id="key",
        cell_styles={"cause": LABEL_ERROR},
    )


def versions_grid() -> dag.AgGrid:
    columns = [
        ("Version", "version"),
        ("", "promoted"),
        ("Source", "source"),
        ("Parent", "parent"),
        ("Base data set", "base"),
        ("Candidates", "candidates"),
        ("Decisions", "decisions"),
        ("Holdout acc.", "holdout"),
        ("Created (UTC)", "created"),
    ]
    return grid(ID.VERSIONS, columns, numeric=("holdout",), select_single=True, row_id="key")
