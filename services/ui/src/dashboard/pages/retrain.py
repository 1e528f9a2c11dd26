"""Retrain page: from a run's flagged records to a promoted version, without leaving the page.

Triaged candidates (cause, label quality, suggestion, why) in a grid with filters; select and
decide (relabel / keep / exclude) or accept every label-error suggestion; launch a retraining
job and watch it; compare two versions side by side on a data set neither trained on; promote
or roll back; each version's lineage one click away. All state is server-side (model_api).
The cards are built in ``_retrain_layout.py``, the callbacks' bodies live in ``logic/``.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.layout import page_header
from dashboard.logic import retrain as logic
from dashboard.logic import retrain_versions as versions
from dashboard.pages import _retrain_layout as lay

dash.register_page(
    __name__, path="/retrain", name="Retrain", title="Retrain · Iris monitor", order=6, grids=True
)

ID = ids.Retrain
_ACTIONS = {ID.ACCEPT: "accept", ID.RELABEL: "relabel", ID.KEEP: "keep", ID.EXCLUDE: "exclude"}


def layout(run_id: str | None = None, **_: Any) -> html.Div:
    return html.Div(
        [
            page_header(
                "Retrain",
                "Flagged records → triage → review → a new version → a fair "
                "comparison → promotion.",
            ),
            dcc.Store(id=ID.URL_RUN, data=run_id),
            lay.candidates_card(),
            lay.retrain_card(),
            lay.versions_card(),
        ]
    )


@callback(
    output=dict(
        runs=Output(ID.RUN, "options"),
        run=Output(ID.RUN, "value"),
        base_datasets=Output(ID.BASE, "options"),
        compare_datasets=Output(ID.COMPARE_DATASET, "options"),
    ),
    inputs=[Input(ID.URL_RUN, "data")],
    state=[State(ids.Tab.RUN, "data")],
)
def init(url_run, remembered):
    return logic.opened(get_client(), url_run, remembered)._asdict()


@callback(
    output=dict(
        model=Output(ID.MODEL, "data"),
        classes=Output(ID.CLASS, "options"),
        labels=Output(ID.LABEL, "options"),
        tab_run=Output(ids.Tab.RUN, "data", allow_duplicate=True),
        job=Output(ID.JOB, "data", allow_duplicate=True),
        poll_off=Output(ID.POLL, "disabled", allow_duplicate=True),
    ),
    inputs=[Input(ID.RUN, "value")],
    prevent_initial_call=True,
)
def pick_run(run_id):
    if not run_id:
        raise PreventUpdate
    return logic.pick_run(get_client(), run_id)._asdict()


@callback(
    output=dict(
        rows=Output(ID.GRID, "rowData"),
        summary=Output(ID.SUMMARY, "children"),
        alert=Output(ID.REVIEW_ALERT, "children", allow_duplicate=True),
    ),
    inputs=[
        Input(ID.RUN, "value"),
        Input(ID.CAUSE, "value"),
        Input(ID.REVIEWED, "value"),
        Input(ID.CLASS, "value"),
        Input(ID.CHANGED, "data"),
    ],
    prevent_initial_call="initial_duplicate",
)
def show_candidates(run_id, cause, reviewed, actual, _changed):
    return logic.candidates(get_client(), run_id, cause, reviewed, actual)._asdict()


@callback(
    output=dict(
        alert=Output(ID.REVIEW_ALERT, "children"),
        changed=Output(ID.CHANGED, "data"),
        selected=Output(ID.GRID, "selectedRows"),
    ),
    inputs=[
        Input(ID.ACCEPT, "n_clicks"),
        Input(ID.RELABEL, "n_clicks"),
        Input(ID.KEEP, "n_clicks"),
        Input(ID.EXCLUDE, "n_clicks"),
    ],
    state=[
        State(ID.RUN, "value"),
        State(ID.GRID, "selectedRows"),
        State(ID.LABEL, "value"),
        State(ID.REVIEWER, "value"),
        State(ID.CHANGED, "data"),
    ],
    prevent_initial_call=True,
)
def decide(_a, _r, _k, _e, run_id, selected, label, reviewer, changed):
    action = _ACTIONS[str(ctx.triggered_id)]
    alert = logic.decide(get_client(), action, run_id, selected, label, reviewer)
    return {"alert": alert, "changed": (changed or 0) + 1, "selected": []}


@callback(
    output=dict(
        job=Output(ID.JOB, "data"),
        view=Output(ID.JOB_VIEW, "children"),
        poll_off=Output(ID.POLL, "disabled"),
        train_off=Output(ID.TRAIN, "disabled"),
        alert=Output(ID.TRAIN_ALERT, "children"),
        versions_changed=Output(ID.VERSIONS_CHANGED, "data"),
    ),
    inputs=[Input(ID.TRAIN, "n_clicks"), Input(ID.POLL, "n_intervals")],
    state=[
        State(ID.RUN, "value"),
        State(ID.MODEL, "data"),
        State(ID.BASE, "value"),
        State(ID.WEIGHT, "value"),
        State(ID.EPOCHS, "value"),
        State(ID.JOB, "data"),
        State(ID.VERSIONS_CHANGED, "data"),
    ],
    prevent_initial_call=True,
)
def retrain(_clicks, _n, run_id, model_id, base, weight, epochs, job, changed):
    request = {"run_id": run_id, "model_id": model_id, "base": base}
    request |= {"weight": weight, "epochs": epochs}
    clicked = ctx.triggered_id == ID.TRAIN
    return logic.job_step(get_client(), clicked, request, job, changed)._asdict()


@callback(
    output=dict(
        rows=Output(ID.VERSIONS, "rowData"),
        a_options=Output(ID.VERSION_A, "options"),
        a=Output(ID.VERSION_A, "value"),
        b_options=Output(ID.VERSION_B, "options"),
        b=Output(ID.VERSION_B, "value"),
        promote_options=Output(ID.PROMOTE_VERSION, "options"),
        promote=Output(ID.PROMOTE_VERSION, "value"),
        promoted=Output(ID.PROMOTED, "children"),
        alert=Output(ID.VERSIONS_ALERT, "children"),
    ),
    inputs=[Input(ID.MODEL, "data"), Input(ID.VERSIONS_CHANGED, "data")],
)
def show_versions(model_id, _changed):
    return versions.shown(get_client(), model_id)._asdict()


@callback(
    Output(ID.LINEAGE, "children"),
    Input(ID.VERSIONS, "selectedRows"),
    State(ID.MODEL, "data"),
)
def show_lineage(selected, model_id):
    return versions.lineage_view(get_client(), model_id, selected)


@callback(
    Output(ID.COMPARISON, "children"),
    Input(ID.COMPARE, "n_clicks"),
    State(ID.MODEL, "data"),
    State(ID.VERSION_A, "value"),
    State(ID.VERSION_B, "value"),
    State(ID.COMPARE_DATASET, "value"),
    State(ID.EXCLUDE_TRAINED, "value"),
    prevent_initial_call=True,
)
def compare(_clicks, model_id, a, b, dataset_id, exclude):
    view, alert = versions.compare(get_client(), model_id, a, b, dataset_id, exclude)
    return alert if view is None else view


@callback(
    output=dict(
        alert=Output(ID.VERSIONS_ALERT, "children", allow_duplicate=True),
        changed=Output(ID.VERSIONS_CHANGED, "data", allow_duplicate=True),
    ),
    inputs=[Input(ID.PROMOTE, "n_clicks")],
    state=[
        State(ID.MODEL, "data"),
        State(ID.PROMOTE_VERSION, "value"),
        State(ID.FORCE, "value"),
        State(ID.REVIEWER, "value"),
        State(ID.VERSIONS_CHANGED, "data"),
    ],
    prevent_initial_call=True,
)
def promote(_clicks, model_id, version, force, reviewer, changed):
    alert = versions.promote(get_client(), model_id, version, force, reviewer)
    return {"alert": alert, "changed": (changed or 0) + 1}
