"""Logic of the Models page: the models grid (polled while anything trains) and the selected
model's detail; the two forms are :mod:`dashboard.logic.models_forms`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypedDict

import dash_bootstrap_components as dbc
from dash import html, no_update

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import empty_figure
from dashboard.components.layout import (
    ACTIVE_STATUSES,
    error_alert,
    fmt_num,
    fmt_pct,
    fmt_time,
    status_badge,
)
from dashboard.components.model_figures import history_figure
from dashboard.components.pickers import Option
from dashboard.logic.models_forms import form_options


class Refreshed(NamedTuple):
    """The models grid after a poll."""

    rows: Any
    selected_rows: Any
    poll_off: Any  # nothing is queued or training
    alert: Any


class Listing(NamedTuple):
    """:class:`Refreshed` and the model the detail should show (no_update: it shows it)."""

    rows: Any
    selected_rows: Any
    poll_off: Any
    alert: Any
    selected: Any


class Detail(NamedTuple):
    detail: Any
    figure: Any  # loss and accuracy per epoch
    retrain_off: Any  # the model trains now


class FirstView(TypedDict):
    """The Models page as it opens (:func:`first_view`)."""

    dataset_options: list[Option]
    dataset: Any
    form_alert: Any
    list_alert: Any
    rows: list[dict[str, Any]]
    selected_rows: Any
    selected: int | None
    detail: Any
    figure: Any
    retrain_disabled: Any
    poll_disabled: Any


def any_active(models: Sequence[Mapping[str, Any]]) -> bool:
    return any(m.get("status") in ACTIVE_STATUSES for m in models)


def progress_text(model: Mapping[str, Any]) -> str:
    progress = model.get("progress") or {}
    epoch, epochs = progress.get("epoch"), progress.get("epochs")
    if epochs:
        return f"{epoch or 0}/{epochs}"
    return "—"


def table_rows(models: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One grid row per model, newest first."""
    rows = []
    for m in sorted(models, key=lambda m: int(m["id"]), reverse=True):
        metrics = m.get("metrics") or {}
        rows.append(
            {
                "id": int(m["id"]),
                "key": str(m["id"]),  # the grid's row id (AG Grid wants strings)
                "name": m.get("name") or f"model {m['id']}",
                "status": m.get("status"),
                "dataset": m.get("dataset_id"),
                "version": m.get("version"),
                "epochs": progress_text(m),
                "holdout_accuracy": fmt_pct(metrics.get("holdout_accuracy")),
                "train_accuracy": fmt_pct(metrics.get("train_accuracy")),
                "updated": fmt_time(m.get("updated_at")),
            }
        )
    return rows


def selected_ids(rows: Sequence[Mapping[str, Any]], model_id: int | None) -> dict[str, list]:
    """The grid's ``selectedRows`` for the model (rows are identified by their id)."""
    return {"ids": [str(model_id)] if any(r["id"] == model_id for r in rows) else []}


def _metric(title: str, value: str) -> dbc.Col:
    return dbc.Col(
        html.Div([html.Div(title, className="kpi-title"), html.Div(value, className="kpi-small")]),
        xs=6,
        md=3,
    )


def detail(model: Mapping[str, Any]) -> list[Any]:
    """Status, live progress and metrics of one model (its curves: :func:`detail_for`)."""
    progress = model.get("progress") or {}
    epochs = int(progress.get("epochs") or (model.get("params") or {}).get("epochs") or 0)
    epoch = int(progress.get("epoch") or 0)
    status = model.get("status")
    share = 100 if status == "ready" else (100 * epoch / epochs if epochs else 0)
    metrics = model.get("metrics") or {}
    params = model.get("params") or {}
    parts: list[Any] = [
        html.Div(
            [
                dbc.Badge(f"#{model['id']}", color="primary", className="me-2 fs-6"),
                html.H4(model.get("name") or f"model {model['id']}", className="mb-0 me-3"),
                status_badge(status),
                html.Span(f"v{model.get('version', 1)}", className="text-muted ms-3"),
                html.Span(
                    f"trained on data set #{model.get('dataset_id')}", className="text-muted ms-3"
                ),
            ],
            className="d-flex align-items-center mb-3",
            id=ids.Models.DETAIL_HEAD,
        ),
        dbc.Progress(
            value=share,
            label=f"epoch {epoch}/{epochs}" if epochs else "",
            striped=status in ACTIVE_STATUSES,
            animated=status in ACTIVE_STATUSES,
            color="danger" if status == "failed" else ("success" if status == "ready" else "info"),
            className="mb-3 iris-progress",
            id=ids.Models.PROGRESS,
        ),
    ]
    if model.get("error"):
        parts.append(error_alert(model["error"], "Training failed"))
    parts.append(
        dbc.Row(
            [
                _metric("Holdout accuracy", fmt_pct(metrics.get("holdout_accuracy"))),
                _metric("Holdout loss", fmt_num(metrics.get("holdout_loss"))),
                _metric("Train accuracy", fmt_pct(metrics.get("train_accuracy"))),
                _metric("Holdout rows", fmt_num(metrics.get("holdout_rows"))),
                _metric("Loss (last epoch)", fmt_num(progress.get("loss"))),
                _metric("Val. accuracy (last)", fmt_pct(progress.get("val_accuracy"))),
                _metric(
                    "Hidden layers",
                    ", ".join(str(u) for u in params.get("hidden_layers", [])) or "—",
                ),
                _metric(
                    "Batch · learning rate",
                    f"{params.get('batch_size', '—')} · {params.get('learning_rate', '—')}",
                ),
            ],
            className="g-3 mb-3",
        )
    )
    return parts


# --- callback bodies -----------------------------------------------------------------------


def refresh(
    client: ApiClient, want: int | None, selected: int | None, remembered: int | None
) -> Refreshed:
    """Models table rows, the row to select, whether polling stops, and an alert."""
    try:
        models = client.list_models()
    except ApiError as exc:
        return Refreshed(no_update, no_update, True, error_alert(exc, "Could not list models"))
    rows = table_rows(models)
    known = [r["id"] for r in rows]
    chosen = next(
        (m for m in (want, selected, remembered) if m in known), known[0] if known else None
    )
    return Refreshed(rows, selected_ids(rows, chosen), not any_active(models), None)


def listing(
    client: ApiClient,
    want: int | None,
    selected: int | None,
    remembered: int | None,
    *,
    triggered: bool,
) -> Listing:
    """The grid's rows and selection; the selected model goes to the detail straight away (it
    loads in the same step, not after the grid echoes its selection back), unless a poll or
    a wish (``triggered``) found the one the detail already shows."""
    refreshed = refresh(client, want, selected, remembered)
    model_id = selected_model(refreshed.selected_rows)
    return Listing(*refreshed, no_update if model_id == selected and triggered else model_id)


def selected_model(selected: Mapping[str, Any] | Any) -> int | None:
    """The model id in a ``selected_ids`` answer (None when nothing is selected)."""
    chosen = selected.get("ids") if isinstance(selected, Mapping) else None
    return int(chosen[0]) if chosen else None


def selection(selected_rows: Sequence[Mapping[str, Any]] | None) -> Any:
    """The model id of the grid's selected row (``selectedRows`` holds the row objects)."""
    if not selected_rows or not isinstance(selected_rows, list):
        return None
    ident = selected_rows[0].get("id") if isinstance(selected_rows[0], Mapping) else None
    return int(ident) if ident is not None else None


def detail_for(client: ApiClient, model_id: int | None) -> Detail:
    """The detail card's body, the loss/accuracy curves, and whether retraining is possible
    now. The curves' graph lives in the page's layout (so Plotly loads while the callbacks run,
    not after them); this only replaces its figure."""
    if model_id is None:
        body = html.P("No model yet: create one on the left.", className="text-muted mb-0")
        return Detail(body, empty_figure("No model yet", height=300), True)
    try:
        model = client.get_model(model_id)
    except ApiError as exc:
        return Detail(
            error_alert(exc, f"Could not load model #{model_id}"),
            empty_figure("No training history", height=300),
            True,
        )
    figure = history_figure(model.get("history"))
    return Detail(detail(model), figure, model.get("status") in ACTIVE_STATUSES)


def first_view(client: ApiClient) -> FirstView:
    """The page as it opens, built in the layout: the data set pickers, the models grid with the
    newest model selected, and that model's detail and curves (no chain of three callbacks after
    load, each a round trip on two busy cores). A tab that remembers another model or data set
    switches to it afterwards in the browser."""
    forms = form_options(client, None, None, None)  # the forms' pickers
    rows, chosen, stop, alert = refresh(client, None, None, None)
    selected_rows = {"ids": []} if chosen is no_update else chosen
    model_id = selected_model(selected_rows)
    shown = detail_for(client, model_id)
    return FirstView(
        dataset_options=forms.create_options,
        dataset=forms.create,
        form_alert=forms.alert,
        list_alert=alert,
        rows=[] if rows is no_update else rows,
        selected_rows=selected_rows,
        selected=model_id,
        detail=shown.detail,
        figure=shown.figure,
        retrain_disabled=shown.retrain_off,
        poll_disabled=stop,
    )
