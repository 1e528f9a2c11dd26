"""The data set's schema: the label column and the 20 numeric features in CSV column order.

The order is the course's ``fields=f1,...,f20`` order, so it is part of the public contract.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from model_api.core.errors import invalid

LABEL = "species"
FEATURE_NAMES: tuple[str, ...] = (
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
COLUMNS: tuple[str, ...] = (LABEL, *FEATURE_NAMES)
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the largest value the model can compute with


def parse_csv(data: bytes | str) -> pd.DataFrame:
    """Parse and validate an uploaded CSV; raise a 422 ``ApiError`` that says what is wrong.

    Columns may come in any order but must be exactly the label plus the 20 features; the
    result is in canonical column order with float features (``soil_type`` as int).
    """
    raw = data.encode() if isinstance(data, str) else data
    if not raw.strip():
        raise invalid("the CSV is empty", code="invalid_csv")
    try:
        df = pd.read_csv(io.BytesIO(raw), skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise invalid(f"the CSV cannot be parsed: {exc}", code="invalid_csv") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in COLUMNS if c not in df.columns]
    unknown = [c for c in df.columns if c not in COLUMNS]
    if missing or unknown:
        raise invalid(
            "the CSV must have the columns species + the 20 features",
            {"missing": missing, "unknown": unknown},
            code="invalid_csv",
        )
    if len(df.columns) != len(set(df.columns)):
        raise invalid("the CSV has duplicate column names", code="invalid_csv")
    if df.empty:
        raise invalid("the CSV has a header but no rows", code="invalid_csv")
    df = df[list(COLUMNS)].copy()
    labels = df[LABEL]
    bad_labels = labels.isna() | (labels.astype(str).str.strip() == "")
    if bad_labels.any():
        rows = [int(i) for i in np.flatnonzero(bad_labels.to_numpy())[:20]]
        raise invalid("species is missing in some rows", {"rows": rows}, code="invalid_csv")
    df[LABEL] = labels.astype(str).str.strip()
    feats = df[list(FEATURE_NAMES)].apply(pd.to_numeric, errors="coerce")
    _check_values(feats.to_numpy(dtype=float))
    df[list(FEATURE_NAMES)] = feats.astype(float)
    soil = df["soil_type"]
    df["soil_type"] = soil.astype(int) if bool((soil == soil.round()).all()) else soil
    return df.reset_index(drop=True)


def unholdable(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The cells float32 cannot hold (missing, not a number, or too large) and what is wrong.

    The model computes in float32, so a value such as 1e308 (finite as float64) would become
    inf and poison training or scoring; uploads and retraining candidates share this check."""
    missing = np.isnan(values)
    with np.errstate(over="ignore", invalid="ignore"):
        too_large = ~missing & ~np.isfinite(values.astype(np.float32))
    problems = []
    if missing.any():
        problems.append("missing or not numbers")
    if too_large.any():
        problems.append(f"too large for float32 (the limit is ±{FLOAT32_MAX:.4g})")
    return missing | too_large, problems


def _check_values(values: np.ndarray) -> None:
    """Every feature must be a number float32 can hold (see ``unholdable``)."""
    bad, problems = unholdable(values)
    if not bad.any():
        return
    rows, cols = np.nonzero(bad)
    cells = [
        {"row": int(r), "column": FEATURE_NAMES[c]}
        for r, c in zip(rows[:20], cols[:20], strict=True)
    ]
    raise invalid(
        f"some feature values are {' or '.join(problems)}",
        {"cells": cells, "count": int(bad.sum())},
        code="invalid_csv",
    )


def feature_matrix(df: pd.DataFrame) -> np.ndarray:
    """The features as a float32 matrix in canonical order."""
    return df[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)
