"""What a client needs to build a valid input: the features, their formulas, the classes, the
soil types and every input limit (``GET /api/schema``), so no client keeps its own copy.

11 of the 20 features are exact functions of the 4 classic measurements (see DATA.md). Their
formulas are kept here as expression text and the same text computes them (``derive``), so the
published formula and the computed value cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from model_api.config import ApiSettings
from model_api.core.errors import invalid
from model_api.models.schemas import MAX_UNITS, MIN_UNITS, MODEL_STATUSES, ModelCreate
from model_api.runs.schemas import LOGGING_FINAL_STATES, LOGGING_STATES, BatchTestRequest
from model_api.schema.features import FEATURE_NAMES, LABEL

MEASUREMENTS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
INDEPENDENT: tuple[str, ...] = (
    "elevation",
    "soil_type",
    *MEASUREMENTS,
    "petal_curvature_mm",
    "petal_texture_trichomes_per_mm2",
    "leaf_area_cm2",
)
# Expression text over the 4 measurements (``sqrt`` = square root), in CSV column order.
FORMULAS: dict[str, str] = {
    "sepal_area": "sepal_length * sepal_width",
    "petal_area": "petal_length * petal_width",
    "sepal_aspect_ratio": "sepal_length / sepal_width",
    "petal_aspect_ratio": "petal_length / petal_width",
    "sepal_to_petal_length_ratio": "sepal_length / petal_length",
    "sepal_to_petal_width_ratio": "sepal_width / petal_width",
    "sepal_petal_length_diff": "sepal_length - petal_length",
    "sepal_petal_width_diff": "sepal_width - petal_width",
    "sepal_area_sqrt": "sqrt(sepal_length * sepal_width)",
    "petal_area_sqrt": "sqrt(petal_length * petal_width)",
    "area_ratios": "(sepal_length * sepal_width) / (petal_length * petal_width)",
}
DERIVED: tuple[str, ...] = tuple(FORMULAS)
SOIL_TYPES: dict[int, str] = {0: "sandy", 1: "clay", 2: "loamy"}
CLASS_NAMES: tuple[str, ...] = ("setosa", "versicolor", "virginica")  # the bundled data set's
LABELS: dict[str, str] = {
    "elevation": "Elevation (m)",
    "soil_type": "Soil type",
    "sepal_length": "Sepal length (cm)",
    "sepal_width": "Sepal width (cm)",
    "petal_length": "Petal length (cm)",
    "petal_width": "Petal width (cm)",
    "petal_curvature_mm": "Petal curvature (mm)",
    "petal_texture_trichomes_per_mm2": "Petal trichomes (per mm²)",
    "leaf_area_cm2": "Leaf area (cm²)",
}
# The score log's run states (``scorelog.service``) and the API's own "disabled".

assert set(INDEPENDENT) | set(DERIVED) == set(FEATURE_NAMES) and len(FEATURE_NAMES) == 20


def derive(inputs: Mapping[str, Any]) -> dict[str, float]:
    """All 20 features (CSV column order) from the 9 independent inputs; 422 naming the bad
    ones (missing, not finite, a measurement not positive, an unknown soil type)."""
    values: dict[str, float] = {}
    problems: dict[str, str] = {}
    for name in INDEPENDENT:
        raw = inputs.get(name)
        try:
            number = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems[name] = "missing" if raw in (None, "") else "not a number"
            continue
        if not math.isfinite(number):
            problems[name] = "not a finite number"
        elif name in MEASUREMENTS and number <= 0:
            problems[name] = "must be positive (the derived features divide by it)"
        elif name == "soil_type" and number not in SOIL_TYPES:
            problems[name] = f"must be one of {sorted(SOIL_TYPES)}"
        values[name] = number
    unknown = sorted(set(inputs) - set(INDEPENDENT))
    if problems or unknown:
        raise invalid(
            "the 9 independent inputs cannot make a feature row",
            {"inputs": problems, "unknown": unknown},
        )
    scope = {"__builtins__": {}, "sqrt": math.sqrt, **{m: values[m] for m in MEASUREMENTS}}
    # eval of this module's constant formula text only (never of client input)
    derived = {name: float(eval(text, scope)) for name, text in FORMULAS.items()}
    merged = values | derived
    return {name: merged[name] for name in FEATURE_NAMES}


_BOUND_NAMES = {"ge": "min", "gt": "min_exclusive", "le": "max", "lt": "max_exclusive"}


def field_bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    """The numeric bounds a request model declares for ``field`` (``min``, ``max``, ...)."""
    out: dict[str, Any] = {}
    for item in model.model_fields[field].metadata:
        for attr, name in _BOUND_NAMES.items():
            if getattr(item, attr, None) is not None:
                out[name] = getattr(item, attr)
    return out


def input_limits(settings: ApiSettings) -> dict[str, dict[str, Any]]:
    """Every input bound the API enforces, by name, read from the request models and the
    settings that enforce them. A plain dict: other modules add their own entries
    (``LIMIT_PROVIDERS``)."""
    limits: dict[str, dict[str, Any]] = {
        name: field_bounds(ModelCreate, name)
        for name in ("batch_size", "learning_rate", "validation_split", "seed")
    }
    limits["epochs"] = {**field_bounds(ModelCreate, "epochs"), "max": settings.max_epochs}
    layers = {
        k: getattr(m, k)
        for m in ModelCreate.model_fields["hidden_layers"].metadata
        for k in ("min_length", "max_length")
        if getattr(m, k, None) is not None
    }
    limits["hidden_layers"] = {
        "min_layers": layers["min_length"],
        "max_layers": layers["max_length"],
        "min_units": MIN_UNITS,
        "max_units": MAX_UNITS,
    }
    limits["flip_fraction"] = field_bounds(BatchTestRequest, "flip_fraction")
    limits["upload_bytes"] = {"max": settings.max_upload_bytes}
    for provider in LIMIT_PROVIDERS:
        limits.update(provider(settings))
    return limits


# Functions ``settings -> {name: {bound: value}}`` that add limits (e.g. request sizes, pages).
LIMIT_PROVIDERS: list[Callable[[ApiSettings], dict[str, dict[str, Any]]]] = []


def schema(settings: ApiSettings) -> dict[str, Any]:
    """The body of ``GET /api/schema``."""
    return {
        "label": LABEL,
        "feature_order": list(FEATURE_NAMES),
        "independent": [
            {"name": n, "label": LABELS[n], "integer": n == "soil_type"} for n in INDEPENDENT
        ],
        "derived": [{"name": n, "formula": f} for n, f in FORMULAS.items()],
        "class_names": list(CLASS_NAMES),
        "soil_types": {str(k): v for k, v in SOIL_TYPES.items()},
        "model_statuses": list(MODEL_STATUSES),
        "logging_states": list(LOGGING_STATES),
        "logging_final_states": list(LOGGING_FINAL_STATES),
        "limits": input_limits(settings),
    }
