"""The data set and model pickers every page shares: labels, options (newest first), which
value to preselect, both pickers filled from the API for the Score and Test pages, and the tab
remembering the choice (:func:`remember_in_tab`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from dash import Input, Output, State, clientside_callback

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


_REMEMBER_JS = """function (shown, remembered, listed, opened) {
      const nothing = window.dash_clientside.no_update;
      shown = shown != null && typeof shown === "object" ? shown.id : shown;
      const known = (listed || []).some(o => o.%(key)s === remembered);
      if (!opened && known && remembered !== shown) { return [remembered, nothing, true]; }
      return [nothing, shown == null || shown === remembered ? nothing : shown, true];
    }"""


def remember_in_tab(
    tab_store: str, opened: str, *, pick: str, shown: str, grid: str | None = None
) -> None:
    """Keep the tab's choice (``tab_store``, which other pages read) and the page's in step, in
    the browser: a server callback with an output outside the page fires on every page load.

    The first time the page opens (store ``opened`` not yet set), a remembered choice that is
    listed is picked; afterwards the one in store ``shown`` (its id, or a summary with an
    ``id``) is written to the tab's store. ``pick`` is the page's dropdown (its options list
    the choices), or, with ``grid``, the store the page selects from (the grid's rows, by
    ``id``, list the choices).
    """
    if grid is None:  # a dropdown: picked through its value, its options list the choices
        prop, listed, key = "value", State(pick, "options"), "value"
    else:  # a store the page selects from: the grid's rows list the choices
        prop, listed, key = "data", State(grid, "rowData"), "id"
    clientside_callback(
        _REMEMBER_JS % {"key": key},
        Output(pick, prop, allow_duplicate=True),
        Output(tab_store, "data"),
        Output(opened, "data"),
        Input(shown, "data"),
        State(tab_store, "data"),
        listed,
        State(opened, "data"),
        prevent_initial_call="initial_duplicate",
    )
