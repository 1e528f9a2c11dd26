"""Logic of the Models page: hyper-parameter forms, the models table and the model detail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html, no_update

from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import empty_figure, history_figure
from dashboard.components.layout import (
    ACTIVE_STATUSES,
    error_alert,
    fmt_num,
    fmt_pct,
    fmt_time,
    status_badge,
    success_alert,
)
from dashboard.components.pickers import dataset_options, pick_value


class FormError(ValueError):
    """A hyper-parameter the user typed cannot be sent (caught before calling the API)."""


def parse_hidden_layers(text: str | None, limits: Mapping[str, Any]) -> list[int]:
    """``"10, 10"`` → ``[10, 10]``, within the API's ``hidden_layers`` limits."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise FormError("Hidden layers: give at least one layer size, e.g. 10, 10")
    try:
        sizes = [int(p) for p in parts]
    except ValueError as exc:
        raise FormError(
            f"Hidden layers must be whole numbers separated by commas: {text!r}"
        ) from exc
    bound = limits["hidden_layers"]
    low, high = bound["min_units"], bound["max_units"]
    if len(sizes) > bound["max_layers"] or any(not low <= s <= high for s in sizes):
        raise FormError(
            f"Hidden layers: {bound['min_layers']} to {bound['max_layers']} layers of "
            f"{low} to {high} units each"
        )
    return sizes


def _number(value: Any, name: str, *, integer: bool, low: float, high: float) -> int | float:
    if value is None or value == "":
        raise FormError(f"{name} is required")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise FormError(f"{name} must be a number") from exc
    if integer and not number.is_integer():
        raise FormError(f"{name} must be a whole number")
    if not low <= number <= high:
        raise FormError(f"{name} must be between {low:g} and {high:g}")
    return int(number) if integer else number


def _bounds(limits: Mapping[str, Any], name: str) -> tuple[float, float]:
    """(low, high) of an input from the API's published limits (``GET /api/schema``)."""
    bound = limits[name]
    low = bound.get("min", bound.get("min_exclusive"))
    return float(low), float(bound["max"])


def _bounded(value: Any, label: str, limits: Mapping[str, Any], name: str, integer: bool) -> Any:
    low, high = _bounds(limits, name)
    number = _number(value, label, integer=integer, low=low, high=high)
    if "min_exclusive" in limits[name] and number <= low:
        raise FormError(f"{label} must be greater than {low:g}")
    return number


def create_spec(
    dataset_id: int | None,
    layers: str | None,
    epochs: Any,
    batch_size: Any,
    learning_rate: Any,
    validation_split: Any,
    seed: Any,
    *,
    limits: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``POST /api/models`` body from the form, checked against the API's limits so typos
    never reach the API."""
    if dataset_id is None:
        raise FormError("Choose a data set to train on")
    spec: dict[str, Any] = {
        "dataset_id": int(dataset_id),
        "hidden_layers": parse_hidden_layers(layers, limits),
        "epochs": _bounded(epochs, "Epochs", limits, "epochs", True),
        "batch_size": _bounded(batch_size, "Batch size", limits, "batch_size", True),
        "learning_rate": _bounded(learning_rate, "Learning rate", limits, "learning_rate", False),
        "validation_split": _bounded(
            validation_split, "Validation split", limits, "validation_split", False
        ),
        "seed": None,
    }
    if seed not in (None, ""):
        spec["seed"] = _bounded(seed, "Seed", limits, "seed", True)
    return spec


def retrain_spec(
    dataset_id: int | None,
    epochs: Any,
    batch_size: Any,
    learning_rate: Any,
    *,
    limits: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``POST /api/models/{id}/train`` body; empty optional fields keep the model's own."""
    if dataset_id is None:
        raise FormError("Choose a data set to retrain on")
    spec: dict[str, Any] = {"dataset_id": int(dataset_id)}
    if epochs not in (None, ""):
        spec["epochs"] = _bounded(epochs, "Epochs", limits, "epochs", True)
    if batch_size not in (None, ""):
        spec["batch_size"] = _bounded(batch_size, "Batch size", limits, "batch_size", True)
    if learning_rate not in (None, ""):
        spec["learning_rate"] = _bounded(
            learning_rate, "Learning rate", limits, "learning_rate", False
        )
    return spec


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
            id="model-detail-head",
        ),
        dbc.Progress(
            value=share,
            label=f"epoch {epoch}/{epochs}" if epochs else "",
            striped=status in ACTIVE_STATUSES,
            animated=status in ACTIVE_STATUSES,
            color="danger" if status == "failed" else ("success" if status == "ready" else "info"),
            className="mb-3 iris-progress",
            id="model-progress",
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


def form_options(
    client: ApiClient,
    remembered_dataset: int | None,
    create_value: int | None,
    retrain_value: int | None,
) -> tuple[Any, Any, Any, Any, Any]:
    """Data set pickers of the create and retrain forms (options, value, options, value, alert)."""
    try:
        options = dataset_options(client.list_datasets())
    except ApiError as exc:
        return [], None, [], None, error_alert(exc, "Could not list data sets")
    return (
        options,
        pick_value(options, create_value, remembered_dataset),
        options,
        pick_value(options, retrain_value, remembered_dataset),
        None,
    )


def act(
    client: ApiClient,
    trigger: str | None,
    selected: int | None,
    create_form: Sequence[Any],
    retrain_form: Sequence[Any],
) -> tuple[Any, Any]:
    """Create or retrain; returns (alert, model id to select). Bad input never reaches the API."""
    try:
        if trigger == "models-create":
            limits = client.schema()["limits"]
            created = client.create_model(create_spec(*create_form, limits=limits))
            return success_alert(f"Model #{created['id']} queued for training."), int(created["id"])
        if trigger == "models-retrain":
            if selected is None:
                raise FormError("Select a model in the table first")
            limits = client.schema()["limits"]
            model = client.retrain_model(selected, retrain_spec(*retrain_form, limits=limits))
            return success_alert(f"Retraining model #{model['id']}."), int(model["id"])
    except FormError as exc:
        return error_alert(exc, "Check the form"), no_update
    except ApiError as exc:
        return error_alert(exc, "The model service refused"), no_update
    return no_update, no_update


def refresh(
    client: ApiClient, want: int | None, selected: int | None, remembered: int | None
) -> tuple[Any, Any, Any, Any]:
    """Models table rows, the row to select, whether polling stops, and an alert."""
    try:
        models = client.list_models()
    except ApiError as exc:
        return no_update, no_update, True, error_alert(exc, "Could not list models")
    rows = table_rows(models)
    ids = [r["id"] for r in rows]
    chosen = next((m for m in (want, selected, remembered) if m in ids), ids[0] if ids else None)
    return rows, selected_ids(rows, chosen), not any_active(models), None


def selected_model(selected: Mapping[str, Any] | Any) -> int | None:
    """The model id in a ``selected_ids`` answer (None when nothing is selected)."""
    ids = selected.get("ids") if isinstance(selected, Mapping) else None
    return int(ids[0]) if ids else None


def selection(selected_rows: Sequence[Mapping[str, Any]] | None) -> Any:
    """The model id of the grid's selected row (``selectedRows`` holds the row objects)."""
    if not selected_rows or not isinstance(selected_rows, list):
        return None
    ident = selected_rows[0].get("id") if isinstance(selected_rows[0], Mapping) else None
    return int(ident) if ident is not None else None


def detail_for(client: ApiClient, model_id: int | None) -> tuple[Any, go.Figure, Any]:
    """The detail card's body, the loss/accuracy curves, and whether retraining is possible
    now. The curves' graph lives in the page's layout (so Plotly loads while the callbacks run,
    not after them); this only replaces its figure."""
    if model_id is None:
        body = html.P("No model yet: create one on the left.", className="text-muted mb-0")
        return body, empty_figure("No model yet", height=300), True
    try:
        model = client.get_model(model_id)
    except ApiError as exc:
        return (
            error_alert(exc, f"Could not load model #{model_id}"),
            empty_figure("No training history", height=300),
            True,
        )
    figure = history_figure(model.get("history"))
    return detail(model), figure, model.get("status") in ACTIVE_STATUSES


def first_view(client: ApiClient) -> dict[str, Any]:
    """The page as it opens, built in the layout: the data set pickers, the models grid with the
    newest model selected, and that model's detail and curves (no chain of three callbacks after
    load, each a round trip on two busy cores). A tab that remembers another model or data set
    switches to it afterwards in the browser."""
    options, value, _, _, form_alert = form_options(client, None, None, None)
    view: dict[str, Any] = {"dataset_options": options, "dataset": value, "form_alert": form_alert}
    rows, chosen, stop, alert = refresh(client, None, None, None)
    view |= {"list_alert": alert, "rows": [] if rows is no_update else rows}
    view |= {"selected_rows": {"ids": []} if chosen is no_update else chosen}
    view["selected"] = model_id = selected_model(view["selected_rows"])
    view["detail"], view["figure"], view["retrain_disabled"] = detail_for(client, model_id)
    view["poll_disabled"] = stop
    return view
