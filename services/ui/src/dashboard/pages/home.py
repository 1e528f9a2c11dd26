"""Overview page: where things stand (data sets, models, runs, service health) and the loop."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.layout import card, page_header
from dashboard.logic import home as logic

dash.register_page(__name__, path="/", name="Overview", title="Iris monitor", order=0)

_STEPS = [
    ("Data", "/data", "Upload a CSV or pick the bundled 1,200-row data set; explore it."),
    ("Models", "/models", "Create a model with your hyper-parameters and watch it train."),
    ("Score", "/score", "Classify one flower; see every class's probability."),
    ("Test", "/test", "Test on a data set, flip some labels to provoke the flagger."),
    ("Monitoring", "/monitoring", "Watch the flagged records arrive; retrain and compare."),
]


def layout(**_: Any) -> html.Div:
    steps = dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(f"{i + 1}", className="step-number"),
                            html.H5(dbc.NavLink(name, href=href, className="p-0 stretched-link")),
                            html.P(text, className="small text-muted mb-0"),
                        ]
                    ),
                    className="h-100 step-card shadow-sm",
                ),
                md=True,
            )
            for i, (name, href, text) in enumerate(_STEPS)
        ],
        className="g-3",
    )
    return html.Div(
        [
            page_header(
                "Overview",
                "Train, score and batch-test the iris classifier; every "
                "test prediction is logged and problem records are flagged "
                "for retraining.",
            ),
            html.Div(id=ids.Home.KPIS, className="mb-4"),
            card("The loop", steps),
        ]
    )


@callback(Output(ids.Home.KPIS, "children"), Input(ids.Home.KPIS, "id"))
def show_counts(_id: str) -> Any:
    return logic.counts(get_client())
