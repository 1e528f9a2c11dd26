"""The Models page's two forms and its grid's columns; ``pages/models.py`` wires them. A module
of its own because the page's layout and callbacks together pass 300 lines; the leading
underscore keeps Dash from taking it for a page."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dashboard import ids
from dashboard.components.grid import STATUS_TEXT

ID = ids.Models

TABLE_COLUMNS = [
    ("#", "id"),
    ("Name", "name"),
    ("Status", "status"),
    ("Data set", "dataset"),
    ("Version", "version"),
    ("Epoch", "epochs"),
    ("Holdout acc.", "holdout_accuracy"),
    ("Train acc.", "train_accuracy"),
    ("Updated (UTC)", "updated"),
]
STATUS_STYLES = [(f"params.value === '{k}'", style) for k, style in STATUS_TEXT.items()]


def _field(label: str, component: Any, help_text: str | None = None) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=component.id, className="mb-1 small fw-bold"),
            component,
            dbc.FormText(help_text) if help_text else None,
        ],
        className="mb-2",
    )


def create_form(options: list[Any], value: Any) -> list[Any]:
    return [
        _field(
            "Data set",
            dcc.Dropdown(options=options, value=value, id=ID.DATASET, clearable=False),
        ),
        _field(
            "Hidden layers",
            dbc.Input(id=ID.LAYERS, value="10, 10", type="text"),
            "Units per layer, comma separated",
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        "Epochs",
                        dbc.Input(id=ID.EPOCHS, type="number", value=30, min=1, max=500, step=1),
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Batch size",
                        dbc.Input(id=ID.BATCH, type="number", value=32, min=1, step=1),
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Learning rate",
                        dbc.Input(id=ID.LR, type="number", value=0.01, min=0, step="any"),
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Validation split",
                        dbc.Input(id=ID.VAL, type="number", value=0.2, min=0, max=0.9, step=0.05),
                    ),
                    xs=6,
                ),
            ],
            className="g-2",
        ),
        _field(
            "Seed (optional)",
            dbc.Input(id=ID.SEED, type="number", step=1, placeholder="random"),
        ),
        dbc.Button("Create and train", id=ID.CREATE, color="primary", className="w-100 mt-2"),
    ]


def retrain_form(options: list[Any], value: Any, disabled: bool) -> list[Any]:
    return [
        html.H6("Retrain this model", className="fw-bold"),
        html.P(
            "Trains the selected model further on a data set (for example after adding the "
            "retrain candidates). Empty fields keep the model's settings.",
            className="small text-muted",
        ),
        _field(
            "Data set",
            dcc.Dropdown(options=options, value=value, id=ID.RETRAIN_DATASET, clearable=False),
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        label,
                        dbc.Input(id=ident, type="number", min=low, step=step, placeholder="same"),
                    ),
                    xs=4,
                )
                for label, ident, low, step in (
                    ("Epochs", ID.RETRAIN_EPOCHS, 1, 1),
                    ("Batch", ID.RETRAIN_BATCH, 1, 1),
                    ("LR", ID.RETRAIN_LR, 0, "any"),
                )
            ],
            className="g-2",
        ),
        dbc.Button(
            "Retrain",
            id=ID.RETRAIN,
            color="secondary",
            className="w-100 mt-2",
            disabled=disabled,
        ),
    ]
