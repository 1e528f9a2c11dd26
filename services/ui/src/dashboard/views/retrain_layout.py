"""The Retrain page's cards (controls and placeholders); the page wires their callbacks."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.layout import card
from dashboard.config import get_settings
from dashboard.views import retrain_view as rv
from dashboard.views.retrain_grids import candidates_grid, versions_grid

_SMALL = "small fw-bold mb-1"


def _labelled(label: str, control: Any, **col: Any) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className=_SMALL), control], **col)


def candidates_card() -> dbc.Card:
    filters = dbc.Row(
        [
            _labelled(
                "Run",
                dcc.Dropdown(id="rt-run", options=[], clearable=False, placeholder="Choose a run"),
                lg=5,
            ),
            _labelled(
                "Cause",
                dcc.Dropdown(
                    id="rt-cause",
                    options=[{"label": v, "value": k} for k, v in rv.CAUSE_LABELS.items()],
                    placeholder="any",
                ),
                lg=2,
            ),
            _labelled(
                "Reviewed",
                dcc.Dropdown(
                    id="rt-reviewed",
                    options=[
                        {"label": "not yet", "value": "false"},
                        {"label": "yes", "value": "true"},
                    ],
                    placeholder="any",
                ),
                lg=2,
            ),
            _labelled("Class", dcc.Dropdown(id="rt-class", options=[], placeholder="any"), lg=3),
        ],
        className="g-2 mb-2",
    )
    actions = dbc.Row(
        [
            dbc.Col(
                dbc.Button("Accept all label-error suggestions", id="rt-accept", color="primary"),
                width="auto",
            ),
            dbc.Col(
                dbc.ButtonGroup(
                    [
                        dbc.Button("Relabel selected", id="rt-relabel", color="secondary"),
                        dbc.Button("Keep selected", id="rt-keep", color="secondary", outline=True),
                        dbc.Button(
                            "Exclude selected", id="rt-exclude", color="secondary", outline=True
                        ),
                    ]
                ),
                width="auto",
            ),
            dbc.Col(
                dcc.Dropdown(id="rt-label", options=[], placeholder="to the suggestion"), width=2
            ),
            dbc.Col(
                dbc.Input(id="rt-reviewer", placeholder="your name", value="", size="sm"), width=2
            ),
        ],
        className="g-2 mb-2 align-items-center",
    )
    return card(
        "Candidates",
        [
            dcc.Store(id="rt-changed", data=0),
            filters,
            html.Div(id="rt-summary"),
            actions,
            html.Div(id="rt-review-alert"),
            candidates_grid(),
        ],
        subtitle="Triaged by confident learning (cleanlab) on the run's out-of-sample scores; "
        "unreviewed candidates never enter training",
    )


def retrain_card() -> dbc.Card:
    settings = get_settings()
    controls = dbc.Row(
        [
            _labelled(
                "Base data set",
                dcc.Dropdown(id="rt-base", options=[], placeholder="the parent version's"),
                lg=5,
            ),
            _labelled(
                "Weight (repeats of each candidate)",
                dbc.Input(id="rt-weight", type="number", min=1, max=20, value=1),
                lg=3,
            ),
            _labelled(
                "Epochs",
                dbc.Input(id="rt-epochs", type="number", min=1, placeholder="parent's"),
                lg=2,
            ),
            dbc.Col(
                dbc.Button("Retrain a new version", id="rt-train", color="primary"),
                lg=2,
                className="d-flex align-items-end",
            ),
        ],
        className="g-2 mb-2",
    )
    return card(
        "Retrain",
        [
            dcc.Store(id="rt-job"),
            dcc.Interval(id="rt-poll", interval=settings.training_poll_ms, disabled=True),
            controls,
            html.Div(id="rt-train-alert"),
            html.Div(rv.job_view(None), id="rt-job-view"),
        ],
        subtitle="A server-side job: it survives a closed tab and a model_api restart",
    )


def versions_card() -> dbc.Card:
    compare = dbc.Row(
        [
            _labelled("Version A", dcc.Dropdown(id="rt-va", options=[], clearable=False), lg=2),
            _labelled("Version B", dcc.Dropdown(id="rt-vb", options=[], clearable=False), lg=2),
            _labelled("Comparison data set", dcc.Dropdown(id="rt-cmp-ds", options=[]), lg=4),
            dbc.Col(
                dbc.Switch(id="rt-exclude-trained", label="leave out trained rows", value=False),
                lg=2,
                className="d-flex align-items-end",
            ),
            dbc.Col(
                dbc.Button("Compare", id="rt-compare", color="primary"),
                lg=2,
                className="d-flex align-items-end",
            ),
        ],
        className="g-2 mb-2",
    )
    promote = dbc.Row(
        [
            _labelled(
                "Promote version", dcc.Dropdown(id="rt-pv", options=[], clearable=False), lg=2
            ),
            dbc.Col(
                dbc.Switch(id="rt-force", label="force (recorded)", value=False),
                lg=2,
                className="d-flex align-items-end",
            ),
            dbc.Col(
                dbc.Button("Promote", id="rt-promote", color="success"),
                lg=2,
                className="d-flex align-items-end",
            ),
            dbc.Col(html.Div(id="rt-promoted"), lg=6, className="d-flex align-items-end"),
        ],
        className="g-2 mb-3",
    )
    return card(
        "Versions",
        [
            dcc.Store(id="rt-model"),
            dcc.Store(id="rt-versions-changed", data=0),
            html.Div(id="rt-versions-alert"),
            versions_grid(),
            html.Div(id="rt-lineage", className="mt-3"),
            html.Hr(),
            compare,
            html.Div(id="rt-comparison"),
            html.Hr(),
            promote,
        ],
        subtitle="Select a version for its lineage; compare two; promote one (rollback = promote "
        "an earlier one)",
    )
