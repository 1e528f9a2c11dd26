"""Models page: create a model with hyper-parameters, list models, follow training live, retrain.

Training runs in model_api's background; this page polls ``GET /api/models`` and the selected
model every second while anything is queued or training, and stops polling when all are done.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html
from dash.exceptions import PreventUpdate
from dashboard import ids
from dashboard.api import get_client
from dashboard.components.figures import graph
from dashboard.components.grid import grid
from dashboard.components.layout import card, page_header
from dashboard.components.pickers import remember_in_tab
from dashboard.config import get_settings
from dashboard.logic import models as logic
from dashboard.logic import models_forms as forms
from dashboard.pages import _models_layout as lay

dash.register_page(
    __name__,
    path="/models",
    name="Models",
    title="Models · Iris monitor",
    order=2,
    graphs=True,
    grids=True,
)

ID = ids.Models


def layout(**_: Any) -> html.Div:
    # the newest model, its detail and curves in the layout itself (no callback chain on load)
    view = logic.first_view(get_client())
    table = grid(
        ID.TABLE,
        lay.TABLE_COLUMNS,
        rows=view["rows"],
        page_size=8,
        select_single=True,
        row_id="key",
        cell_styles={"status": lay.STATUS_STYLES},
    )
    table.selectedRows = view["selected_rows"]
    forms = (view["dataset_options"], view["dataset"])
    return html.Div(
        [
            page_header("Models", "Build a classifier on a data set, watch it train, retrain it."),
            dcc.Store(id=ID.SELECTED, data=view["selected"]),
            dcc.Store(id=ID.WANT),
            dcc.Store(id=ID.OPENED, data=False),
            dcc.Interval(
                id=ID.POLL,
                interval=get_settings().training_poll_ms,
                disabled=view["poll_disabled"],
            ),
            html.Div(id=ID.ALERT),
            html.Div(view["list_alert"], id=ID.LIST_ALERT),
            html.Div(view["form_alert"], id=ID.FORM_ALERT),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "New model",
                            lay.create_form(*forms),
                            subtitle="Dense ReLU layers → softmax over the species",
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        card("Models", table, subtitle="Select a row to see its training"), lg=8
                    ),
                ]
            ),
            card(
                "Training",
                dbc.Row(
                    [
                        dbc.Col(
                            dcc.Loading(
                                [
                                    html.Div(view["detail"], id=ID.DETAIL),
                                    graph(
                                        id=ID.HISTORY,
                                        figure=view["figure"],
                                    ),
                                ],
                                delay_show=400,
                            ),
                            lg=9,
                        ),
                        dbc.Col(
                            lay.retrain_form(*forms, view["retrain_disabled"]),
                            lg=3,
                            className="border-start",
                        ),
                    ],
                    className="g-4",
                ),
                subtitle="Live progress while training; loss and accuracy per epoch",
            ),
        ]
    )


# the tab's data set (``sel-dataset``), if it is another than the layout's newest one
clientside_callback(
    """function (_id, remembered, options) {
      const known = (options || []).some(o => o.value === remembered && !o.disabled);
      const nothing = window.dash_clientside.no_update;
      return known ? [remembered, remembered] : [nothing, nothing];
    }""",
    Output(ID.DATASET, "value"),
    Output(ID.RETRAIN_DATASET, "value"),
    Input(ID.DATASET, "id"),  # once, when the page is shown
    State(ids.Tab.DATASET, "data"),
    State(ID.DATASET, "options"),
)


@callback(
    output=dict(
        alert=Output(ID.ALERT, "children"),
        want=Output(ID.WANT, "data"),
        selected=Output(ID.SELECTED, "data", allow_duplicate=True),
    ),
    inputs=[Input(ID.CREATE, "n_clicks"), Input(ID.RETRAIN, "n_clicks")],
    state=[
        State(ID.SELECTED, "data"),
        State(ID.DATASET, "value"),
        State(ID.LAYERS, "value"),
        State(ID.EPOCHS, "value"),
        State(ID.BATCH, "value"),
        State(ID.LR, "value"),
        State(ID.VAL, "value"),
        State(ID.SEED, "value"),
        State(ID.RETRAIN_DATASET, "value"),
        State(ID.RETRAIN_EPOCHS, "value"),
        State(ID.RETRAIN_BATCH, "value"),
        State(ID.RETRAIN_LR, "value"),
    ],
    prevent_initial_call=True,
)
def create_or_retrain(
    create_clicks,
    retrain_clicks,
    selected,
    ds,
    layers,
    epochs,
    batch,
    lr,
    val,
    seed,
    rds,
    re,
    rb,
    rlr,
):
    """Start training in model_api's background; the poller shows the progress."""
    if not (create_clicks or retrain_clicks):  # a page render, not a click
        raise PreventUpdate
    acted = forms.act(
        get_client(),
        ctx.triggered_id,
        selected,
        (ds, layers, epochs, batch, lr, val, seed),
        (rds, re, rb, rlr),
    )
    # the new/retrained model becomes this tab's selection at once (not via the table)
    return {"alert": acted.alert, "want": acted.model, "selected": acted.model}


@callback(
    output=dict(
        rows=Output(ID.TABLE, "rowData"),
        selected_rows=Output(ID.TABLE, "selectedRows"),
        poll_off=Output(ID.POLL, "disabled"),
        alert=Output(ID.LIST_ALERT, "children"),
        selected=Output(ID.SELECTED, "data", allow_duplicate=True),
    ),
    inputs=[Input(ID.POLL, "n_intervals"), Input(ID.WANT, "data")],
    state=[State(ID.SELECTED, "data"), State(ids.Tab.MODEL, "data")],
    prevent_initial_call=True,  # the layout has the first rows and selection
)
def refresh_models(_n, want, selected, remembered):
    """The grid's rows and selection, the selected model to ``models-selected`` at once."""
    triggered = ctx.triggered_id is not None
    return logic.listing(get_client(), want, selected, remembered, triggered=triggered)._asdict()


@callback(
    Output(ID.SELECTED, "data"),
    Input(ID.TABLE, "selectedRows"),
    State(ID.SELECTED, "data"),
    prevent_initial_call=True,
)
def select_model(selected_rows, current):
    """A row the user selected (the grid also echoes selections made by callbacks: those are
    already in ``models-selected``)."""
    model_id = logic.selection(selected_rows)
    if model_id is None or model_id == current:
        raise PreventUpdate
    return model_id


# The tab's model (``sel-model``, other pages read it) follows the one shown, written in the
# browser: a server callback with an output outside the page fires on every page load whatever
# its prevent_initial_call says (a round trip for nothing on two busy cores). When the page
# opens it shows the newest model; a tab that remembers another one switches to it (through
# ``models-want``: refresh_models selects it and the detail follows).
remember_in_tab(ids.Tab.MODEL, ID.OPENED, pick=ID.WANT, shown=ID.SELECTED, grid=ID.TABLE)


@callback(
    output=dict(
        detail=Output(ID.DETAIL, "children"),
        figure=Output(ID.HISTORY, "figure"),
        retrain_off=Output(ID.RETRAIN, "disabled"),
    ),
    inputs=[Input(ID.SELECTED, "data"), Input(ID.POLL, "n_intervals")],
    prevent_initial_call=True,  # the layout shows the first model
)
def show_detail(model_id, _n):
    return logic.detail_for(get_client(), model_id)._asdict()
