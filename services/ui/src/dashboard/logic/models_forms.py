"""The Models page's two forms (create a model, retrain the selected one): their data set
pickers, their hyper-parameters checked against the API's published limits (``GET /api/schema``)
so a typo never reaches the API, and submitting them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from dash import no_update

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.layout import error_alert, success_alert
from dashboard.components.pickers import Option, dataset_options, pick_value


class FormOptions(NamedTuple):
    """The create and retrain forms' data set pickers."""

    create_options: list[Option]
    create: Any
    retrain_options: list[Option]
    retrain: Any
    alert: Any


class Acted(NamedTuple):
    alert: Any
    model: Any  # the model created or retrained, to select


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


# --- callback bodies -----------------------------------------------------------------------


def form_options(
    client: ApiClient,
    remembered_dataset: int | None,
    create_value: int | None,
    retrain_value: int | None,
) -> FormOptions:
    """Data set pickers of the create and retrain forms."""
    try:
        options = dataset_options(client.list_datasets())
    except ApiError as exc:
        return FormOptions([], None, [], None, error_alert(exc, "Could not list data sets"))
    return FormOptions(
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
) -> Acted:
    """Create or retrain, and the model to select. Bad input never reaches the API."""
    try:
        if trigger == ids.Models.CREATE:
            limits = client.schema()["limits"]
            created = client.create_model(create_spec(*create_form, limits=limits))
            queued = success_alert(f"Model #{created['id']} queued for training.")
            return Acted(queued, int(created["id"]))
        if trigger == ids.Models.RETRAIN:
            if selected is None:
                raise FormError("Select a model in the table first")
            limits = client.schema()["limits"]
            model = client.retrain_model(selected, retrain_spec(*retrain_form, limits=limits))
            return Acted(success_alert(f"Retraining model #{model['id']}."), int(model["id"]))
    except FormError as exc:
        return Acted(error_alert(exc, "Check the form"), no_update)
    except ApiError as exc:
        return Acted(error_alert(exc, "The model service refused"), no_update)
    return Acted(no_update, no_update)
