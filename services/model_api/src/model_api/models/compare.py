"""A fair comparison of two versions: same rows, none of which either version trained on.

Besides the usual figures, it reports what happened to the flagged records the newer version
was retrained on (with their reviewed labels): "fixed" (the first version got them wrong, the
second right) and "newly broken" (the other way round). Those records are training rows of the
second version, so they are reported apart from the fair figures, never mixed into them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from model_api.models.network import Predictor
from model_api.runs.metrics import confusion, per_class
from model_api.schema.features import LABEL, feature_matrix


def evaluate(
    predictor: Predictor, x: np.ndarray, actual: list[str], classes: list[str]
) -> dict[str, Any]:
    predicted = [classes[i] for i in predictor.probabilities(x).argmax(axis=1)]
    matrix = confusion(actual, predicted, classes)
    correct = sum(a == p for a, p in zip(actual, predicted, strict=True))
    return {
        "accuracy": correct / len(actual) if actual else None,
        "correct": correct,
        "confusion_matrix": matrix,
        "per_class": per_class(matrix, classes),
        "predicted": predicted,
    }


def flagged_outcome(
    a: Predictor, b: Predictor, records: list[dict[str, Any]], classes: list[str]
) -> dict[str, Any]:
    """On the reviewed flagged records (decided label as truth): who gets them right now."""
    if not records:
        return {
            "records": 0,
            "a_right": 0,
            "b_right": 0,
            "fixed": [],
            "newly_broken": [],
            "fixed_count": 0,
            "newly_broken_count": 0,
        }
    frame = pd.DataFrame([{**r["features"], LABEL: r["label"]} for r in records])
    x = feature_matrix(frame)
    truth = [r["label"] for r in records]
    pa = [classes[i] for i in a.probabilities(x).argmax(axis=1)]
    pb = [classes[i] for i in b.probabilities(x).argmax(axis=1)]
    ra = [p == t for p, t in zip(pa, truth, strict=True)]
    rb = [p == t for p, t in zip(pb, truth, strict=True)]
    keys = [f"{r['partition_key']}/{r['sort_key']}" for r in records]
    fixed = [k for k, x1, x2 in zip(keys, ra, rb, strict=True) if not x1 and x2]
    broken = [k for k, x1, x2 in zip(keys, ra, rb, strict=True) if x1 and not x2]
    return {
        "records": len(records),
        "a_right": sum(ra),
        "b_right": sum(rb),
        "fixed_count": len(fixed),
        "newly_broken_count": len(broken),
        "fixed": fixed,
        "newly_broken": broken,
    }
