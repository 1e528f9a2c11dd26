"""The dashboard's view of the 20 model features: the form's 9 inputs and how to parse a pasted
CSV line. The 11 derived features are computed by model_api (``POST /api/schema/derive``, with
the formulas ``GET /api/schema`` publishes), never by a copy of their formulas here; the names
below are checked against ``GET /api/schema`` by the tests. Pure Python (no pandas).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.api_client import ApiClient, ApiError

LABEL = "species"

# The 20 feature columns in the CSV's column order (the ``values`` order of the score route).
FEATURE_ORDER: tuple[str, ...] = (
    "elevation",
    "soil_type",
    "sepal_length",
    "sepal_width",
    "petal_length",
    "petal_width",
    "sepal_area",
    "petal_area",
    "sepal_aspect_ratio",
    "petal_aspect_ratio",
    "sepal_to_petal_length_ratio",
    "sepal_to_petal_width_ratio",
    "sepal_petal_length_diff",
    "sepal_petal_width_diff",
    "petal_curvature_mm",
    "petal_texture_trichomes_per_mm2",
    "leaf_area_cm2",
    "sepal_area_sqrt",
    "petal_area_sqrt",
    "area_ratios",
)

MEASUREMENTS: tuple[str, ...] = ("sepal_length", "sepal_width", "petal_length", "petal_width")

# What the user types: the 9 inputs no other column determines.
INDEPENDENT: tuple[str, ...] = (
    "elevation",
    "soil_type",
    *MEASUREMENTS,
    "petal_curvature_mm",
    "petal_texture_trichomes_per_mm2",
    "leaf_area_cm2",
)

SOIL_TYPES: dict[int, str] = {0: "sandy", 1: "clay", 2: "loamy"}

# Human labels and units for the form.
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


class FeatureError(ValueError):
    """The typed inputs cannot make a valid feature row (missing, not a number, not positive)."""


def full_row(client: ApiClient, inputs: Mapping[str, float | int | str | None]) -> dict[str, float]:
    """All 20 features (in ``FEATURE_ORDER``) from the 9 independent inputs, derived by the API;
    ``FeatureError`` says which inputs it refused."""
    for name in INDEPENDENT:
        if inputs.get(name) in (None, ""):
            raise FeatureError(f"{LABELS[name]} is missing")
    try:
        return client.derive({name: inputs[name] for name in INDEPENDENT})["features"]
    except ApiError as exc:
        problems = (exc.details or {}).get("inputs") if isinstance(exc.details, dict) else None
        if exc.status != 422 or not problems:
            raise
        raise FeatureError(
            "; ".join(f"{LABELS.get(n, n)} {why}" for n, why in problems.items())
        ) from exc


def parse_csv_line(line: str) -> list[float]:
    """20 comma-separated numbers in CSV column order; a leading species name is tolerated.

    Users paste a row straight out of the CSV, so a line of 21 fields starting with a word (the
    label) is accepted and the label dropped; anything else must be exactly 20 numbers.
    """
    fields = [f.strip() for f in line.strip().split(",")]
    if len(fields) == len(FEATURE_ORDER) + 1 and not _is_number(fields[0]):
        fields = fields[1:]
    if len(fields) != len(FEATURE_ORDER):
        got = len(fields) if line.strip() else 0
        raise FeatureError(f"Expected {len(FEATURE_ORDER)} comma-separated values, got {got}")
    bad = [f"#{i + 1} {f!r}" for i, f in enumerate(fields) if not _is_number(f)]
    if bad:
        raise FeatureError(f"Not a finite number: {', '.join(bad[:5])}")
    return [float(f) for f in fields]


def inputs_from_row(row: Mapping[str, Any]) -> dict[str, float]:
    """The 9 independent inputs of a data set row (to prefill the form)."""
    return {name: float(row[name]) for name in INDEPENDENT if name in row}


def to_named(values: Sequence[float]) -> dict[str, float]:
    """Name 20 CSV-ordered values."""
    return dict(zip(FEATURE_ORDER, values, strict=True))


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
