"""The dashboard's view of the model's features, read from ``GET /api/schema`` (the feature
order, the 9 inputs with their labels, the soil types): no copy of them lives here. The 11
derived features are computed by model_api (``POST /api/schema/derive``). Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.api import ApiClient, ApiError

# The label column's name, for the Data page's pure column helpers (logic/data.py); the
# Score page reads it from the schema (``label``), and the tests check the two agree.
LABEL = "species"


class FeatureError(ValueError):
    """The typed inputs cannot make a valid feature row (missing, not a number, not positive)."""


def independent(schema: Mapping[str, Any]) -> list[str]:
    """The names of the inputs the user types, in the API's order."""
    return [f["name"] for f in schema["independent"]]


def labels(schema: Mapping[str, Any]) -> dict[str, str]:
    """Human label (with unit) of every independent input."""
    return {f["name"]: f["label"] for f in schema["independent"]}


def full_row(client: ApiClient, inputs: Mapping[str, float | int | str | None]) -> dict[str, float]:
    """All 20 features (in the schema's order) from the independent inputs, derived by the API;
    ``FeatureError`` says which inputs it refused."""
    schema = client.schema()
    names, label_of = independent(schema), labels(schema)
    for name in names:
        if inputs.get(name) in (None, ""):
            raise FeatureError(f"{label_of[name]} is missing")
    try:
        return client.derive({name: inputs[name] for name in names})["features"]
    except ApiError as exc:
        problems = (exc.details or {}).get("inputs") if isinstance(exc.details, dict) else None
        if exc.status != 422 or not problems:
            raise
        raise FeatureError(
            "; ".join(f"{label_of.get(n, n)} {why}" for n, why in problems.items())
        ) from exc


def parse_csv_line(line: str, width: int) -> list[float]:
    """``width`` comma-separated numbers in CSV column order; a leading species name is tolerated.

    Users paste a row straight out of the CSV, so a line of ``width + 1`` fields starting with a
    word (the label) is accepted and the label dropped; anything else must be ``width`` numbers.
    """
    fields = [f.strip() for f in line.strip().split(",")]
    if len(fields) == width + 1 and not _is_number(fields[0]):
        fields = fields[1:]
    if len(fields) != width:
        got = len(fields) if line.strip() else 0
        raise FeatureError(f"Expected {width} comma-separated values, got {got}")
    bad = [f"#{i + 1} {f!r}" for i, f in enumerate(fields) if not _is_number(f)]
    if bad:
        raise FeatureError(f"Not a finite number: {', '.join(bad[:5])}")
    return [float(f) for f in fields]


def inputs_from_row(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, float]:
    """The independent inputs (``names``) of a data set row (to prefill the form)."""
    return {name: float(row[name]) for name in names if name in row}


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
