"""Scoring one row, for the JSON API and the course routes alike: the inputs checked and put in
canonical order, then the numpy forward pass of a version (no ``model.predict`` per request).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_api.core.errors import invalid
from model_api.core.observability import SCORES
from model_api.models.finite import finite_probabilities
from model_api.models.service import VersionService
from model_api.schema.features import FEATURE_NAMES


def feature_row(values: list[float] | None, features: dict[str, float] | None) -> np.ndarray:
    """The 20 inputs (a list in CSV column order, or name → number) in canonical order, or a
    422 naming what is missing or unknown."""
    if values is not None:
        if len(values) != len(FEATURE_NAMES):
            raise invalid(
                f"'values' needs {len(FEATURE_NAMES)} numbers in CSV column order",
                {"got": len(values), "feature_names": list(FEATURE_NAMES)},
            )
    else:
        given = features or {}
        missing = [n for n in FEATURE_NAMES if n not in given]
        unknown = [n for n in given if n not in FEATURE_NAMES]
        if missing or unknown:
            raise invalid(
                "'features' must name each of the 20 features once",
                {"missing": missing, "unknown": unknown},
            )
        values = [given[n] for n in FEATURE_NAMES]
    row = np.asarray([values], dtype=np.float32)
    if not np.isfinite(row).all():
        raise invalid("feature values must be finite numbers")
    return row


def fields_row(fields: str) -> np.ndarray:
    """The course's ``fields=f1,...,f20`` text as a row, or a 422 saying what is wrong."""
    parts = [p.strip() for p in fields.split(",")]
    if len(parts) != len(FEATURE_NAMES):
        raise invalid(
            f"'fields' needs {len(FEATURE_NAMES)} comma-separated numbers in CSV column order",
            {"got": len(parts), "feature_names": list(FEATURE_NAMES)},
        )
    try:
        row = np.asarray([[float(p) for p in parts]], dtype=np.float32)
    except ValueError as exc:
        raise invalid("'fields' must be numbers", {"fields": fields}) from exc
    if not np.isfinite(row).all():
        raise invalid("'fields' must be finite numbers", {"fields": fields})
    return row


def score(
    versions: VersionService, model_id: int, row: np.ndarray, version: int | None = None
) -> dict[str, Any]:
    """Predict one row with the promoted version unless one is named."""
    predictor, classes, version = versions.predictor(model_id, version, cached=True)
    probs = finite_probabilities(predictor, row)[0]
    best = int(probs.argmax())
    SCORES.inc()
    return {
        "model_id": model_id,
        "version": version,
        "class_name": classes[best],
        "class_index": best,
        "probabilities": {c: float(p) for c, p in zip(classes, probs, strict=True)},
        "classes": classes,
    }
