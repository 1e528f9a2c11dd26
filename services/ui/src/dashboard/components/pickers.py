"""The data set and model pickers every page shares: labels, options (newest first), which
value to preselect, and both pickers filled from the API for the Score and Test pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from dashboard.api import ApiClient, ApiError
from dashboard.components.layout import error_alert

Option = dict[str, Any]


class Pickers(NamedTuple):
    """Both pickers, filled: options and the value to show, and an alert if the API failed."""

    model_options: list[Option]
    model: Any
    dataset_options: list[Option]
    dataset: Any
    alert: Any


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


def pickers(
    client: ApiClient, remembered_model: int | None, remembered_dataset: int | None
) -> Pickers:
    """Ready models (others disabled) and data sets, preselecting this tab's choices, for the
    Score and Test pages, which pick the same way."""
    try:
        models = model_options(client.list_models(), ready_only=True)
        datasets = dataset_options(client.list_datasets())
    except ApiError as exc:
        return Pickers([], None, [], None, error_alert(exc, "Could not reach the model service"))
    return Pickers(
        models,
        pick_value(models, remembered_model),
        datasets,
        pick_value(datasets, remembered_dataset),
        None,
    )
