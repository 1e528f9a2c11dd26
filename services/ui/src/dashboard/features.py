"""The 20 model features, and the 11 that are exact functions of the 4 classic measurements.

The score form asks only for the 9 independent inputs; the derived 11 are computed here exactly as
the data set defines them (see shared/data/DATA.md), so a hand-typed row is consistent with the
training data. Pure Python (no pandas) so it is trivially testable against every bundled row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

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

DERIVED: tuple[str, ...] = tuple(f for f in FEATURE_ORDER if f not in INDEPENDENT)

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


def derive(
    sepal_length: float, sepal_width: float, petal_length: float, petal_width: float
) -> dict[str, float]:
    """The 11 derived features from the 4 measurements (all must be positive: they divide)."""
    for name, value in zip(
        MEASUREMENTS, (sepal_length, sepal_width, petal_length, petal_width), strict=True
    ):
        if not math.isfinite(value) or value <= 0:
            raise FeatureError(f"{LABELS[name]} must be a positive number, got {value!r}")
    sepal_area = sepal_length * sepal_width
    petal_area = petal_length * petal_width
    return {
        "sepal_area": sepal_area,
        "petal_area": petal_area,
        "sepal_aspect_ratio": sepal_length / sepal_width,
        "petal_aspect_ratio": petal_length / petal_width,
        "sepal_to_petal_length_ratio": sepal_length / petal_length,
        "sepal_to_petal_width_ratio": sepal_width / petal_width,
        "sepal_petal_length_diff": sepal_length - petal_length,
        "sepal_petal_width_diff": sepal_width - petal_width,
        "sepal_area_sqrt": math.sqrt(sepal_area),
        "petal_area_sqrt": math.sqrt(petal_area),
        "area_ratios": sepal_area / petal_area,
    }


def full_row(inputs: Mapping[str, float | int | str | None]) -> dict[str, float]:
    """All 20 features (in ``FEATURE_ORDER``) from the 9 independent inputs."""
    values: dict[str, float] = {}
    for name in INDEPENDENT:
        raw = inputs.get(name)
        if raw is None or raw == "":
            raise FeatureError(f"{LABELS[name]} is missing")
        try:
            number = float(raw)
        except (TypeError, ValueError) as exc:
            raise FeatureError(f"{LABELS[name]} must be a number, got {raw!r}") from exc
        if not math.isfinite(number):
            raise FeatureError(f"{LABELS[name]} must be a finite number")
        values[name] = number
    if values["soil_type"] not in SOIL_TYPES:
        raise FeatureError("Soil type must be 0 (sandy), 1 (clay) or 2 (loamy)")
    derived = derive(*(values[m] for m in MEASUREMENTS))
    merged = values | derived
    return {name: merged[name] for name in FEATURE_ORDER}


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
