"""Small building blocks every page shares: alerts, options for the dataset/model pickers,
status badges and number formatting. Pure functions of API JSON, tested directly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard.api_client import ApiClient, ApiError

Option = dict[str, Any]

STATUS_COLOURS: dict[str, str] = {
    "queued": "secondary",
    "training": "info",
    "ready": "success",
    "failed": "danger",
}
ACTIVE_STATUSES = frozenset({"queued", "training"})


def error_alert(error: Exception | str, title: str = "Something went wrong") -> dbc.Alert:
    """What a page shows when a call fails: the API's message, dismissable, page stays usable."""
    text = str(error)
    return dbc.Alert(
        [html.Strong(f"{title}: "), html.Span(text)],
        color="danger",
        dismissable=True,
        className="mb-3 iris-alert",
        is_open=True,
    )


def success_alert(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", dismissable=True, className="mb-3", duration=8000)


def info_alert(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="info", className="mb-3")


def dataset_label(dataset: Mapping[str, Any]) -> str:
    return (
        f"#{dataset['id']} · {dataset.get('name') or 'unnamed'} ({dataset.get('rows', '?')} rows)"
    )


def dataset_options(datasets: Sequence[Mapping[str, Any]]) -> list[Option]:
    """Newest first, so a fresh upload is at the top."""
    ordered = sorted(datasets, key=lambda d: int(d["id"]), reverse=True)
    return [{"label": dataset_label(d), "value": int(d["id"])} for d in ordered]


def model_label(model: Mapping[str, Any]) -> str:
    acc = (model.get("metrics") or {}).get("holdout_accuracy")
    acc_text = f", holdout {acc:.1%}" if isinstance(acc, int | float) else ""
    name = model.get("name") or f"model {model['id']}"
    return f"#{model['id']} · {name} — {model.get('status', '?')}{acc_text}"


def model_options(models: Sequence[Mapping[str, Any]], *, ready_only: bool = False) -> list[Option]:
    """Newest first; models that cannot score yet are listed but disabled when ``ready_only``."""
    ordered = sorted(models, key=lambda m: int(m["id"]), reverse=True)
    return [
        {
            "label": model_label(m),
            "value": int(m["id"]),
            "disabled": ready_only and m.get("status") != "ready",
        }
        for m in ordered
    ]


def pick_value(options: Sequence[Option], *preferred: Any) -> Any:
    """The first preferred value that is a selectable option, else the first selectable option."""
    allowed = [o["value"] for o in options if not o.get("disabled")]
    for value in preferred:
        if value is not None and value in allowed:
            return value
    return allowed[0] if allowed else None


def status_badge(status: str | None) -> dbc.Badge:
    text = status or "unknown"
    return dbc.Badge(text, color=STATUS_COLOURS.get(text, "dark"), className="text-uppercase")


def fmt_pct(value: Any, digits: int = 1) -> str:
    return f"{float(value):.{digits}%}" if isinstance(value, int | float) else "—"


def fmt_num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def fmt_time(value: Any) -> str:
    """ISO-8601 → ``2026-11-25 03:15:09`` (UTC); other values unchanged."""
    if not isinstance(value, str) or "T" not in value:
        return "—" if value is None else str(value)
    return value.replace("T", " ")[:19]


def kpi(
    title: str,
    value: str,
    *,
    colour: str = "primary",
    element_id: str | None = None,
    small: bool = False,
) -> dbc.Card:
    """A small headline figure card (accuracy, rows, flagged...); ``small`` for long ids."""
    size = "kpi-value kpi-value-sm" if small else "kpi-value"
    body = html.Div(value, className=f"{size} text-{colour}")
    if element_id:
        body = html.Div(value, id=element_id, className=f"{size} text-{colour}")
    return dbc.Card(
        dbc.CardBody([html.Div(title, className="kpi-title"), body]), className="kpi-card h-100"
    )


def card(
    title: str, body: Any, *, subtitle: str | None = None, actions: Any = None, **kwargs: Any
) -> dbc.Card:
    """The product's one card style: a titled header (optional actions on the right) and a body."""
    head = [
        html.Div(
            [
                html.H5(title, className="mb-0"),
                html.Small(subtitle, className="text-muted") if subtitle else None,
            ]
        )
    ]
    if actions is not None:
        head.append(html.Div(actions, className="ms-auto"))
    class_name = "iris-card shadow-sm mb-4 " + kwargs.pop("className", "")
    return dbc.Card(
        [
            dbc.CardHeader(html.Div(head, className="d-flex align-items-center gap-2")),
            dbc.CardBody(body),
        ],
        className=class_name.strip(),
        **kwargs,
    )


def page_header(title: str, lead: str) -> html.Div:
    return html.Div([html.H2(title, className="mb-1"), html.P(lead, className="text-muted mb-4")])


def pickers(
    client: ApiClient, remembered_model: int | None, remembered_dataset: int | None
) -> tuple[Any, Any, Any, Any, Any]:
    """Ready models (others disabled) and data sets, preselecting this tab's choices.

    Returns (model options, model value, data set options, data set value, alert) for the
    Score and Test pages, which pick the same way.
    """
    try:
        models = model_options(client.list_models(), ready_only=True)
        datasets = dataset_options(client.list_datasets())
    except ApiError as exc:
        return [], None, [], None, error_alert(exc, "Could not reach the model service")
    return (
        models,
        pick_value(models, remembered_model),
        datasets,
        pick_value(datasets, remembered_dataset),
        None,
    )
