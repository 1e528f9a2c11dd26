"""A batch test: score a whole data set with a model and compare with the labels.

``flip_fraction`` relabels that share of rows to another of the model's classes first, so that
a test can deliberately produce misclassified records for the retrain flagger (the course's
"hack a small test data set" tip, made repeatable with a seed). Without a seed one is drawn and
stored in the run, so a re-test with the run's ``seed`` and ``flip_fraction`` flips the same rows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from iris_common.clock import iso_utc

from model_api.core.errors import invalid
from model_api.models.finite import finite_probabilities
from model_api.models.network import Predictor
from model_api.runs.metrics import confusion, per_class
from model_api.schema.features import LABEL, feature_matrix

MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class TestRunInfo:
    """What the score log needs to know about a run (``scorelog.items.RunInfo``)."""

    __test__ = False  # not a pytest class

    run_id: str
    model_id: int
    dataset_id: int
    classes: list[str]
    created_at: datetime


@dataclass(frozen=True)
class TestedRow:
    """One row as tested (species = the actual label used) and its prediction."""

    __test__ = False

    position: int
    row: dict[str, Any]
    predicted: str
    probabilities: list[float]


@dataclass
class BatchTestResult:
    run: dict[str, Any]  # the TestRun resource (without ``logging``)
    info: TestRunInfo  # what the score log needs about the run
    rows: list[TestedRow]  # one per row, in data set order


def flip_labels(
    labels: list[str], classes: list[str], fraction: float, rng: np.random.Generator
) -> list[int]:
    """Relabel ``fraction`` of rows (in place) to a different class; returns their indices."""
    n = round(len(labels) * fraction)
    if n == 0:
        return []
    rows = np.sort(rng.choice(len(labels), size=n, replace=False))
    for r in rows:
        others = [c for c in classes if c != labels[r]]
        labels[r] = others[int(rng.integers(len(others)))]
    return [int(r) for r in rows]


def run_batch_test(
    *,
    run_id: str,
    model_id: int,
    dataset_id: int,
    df: pd.DataFrame,
    predictor: Predictor,
    classes: list[str],
    flip_fraction: float = 0.0,
    seed: int | None = None,
) -> BatchTestResult:
    """Score every row; return the run resource and what the score log needs."""
    actual = df[LABEL].astype(str).tolist()
    unknown = sorted(set(actual) - set(classes))
    if unknown:
        raise invalid(
            f"dataset {dataset_id} has classes model {model_id} does not know",
            {"unknown": unknown, "model_classes": classes},
            code="unknown_classes",
        )
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    flipped = flip_labels(actual, classes, flip_fraction, np.random.default_rng(seed))
    probs = finite_probabilities(predictor, feature_matrix(df))
    best = probs.argmax(axis=1)
    predicted = [classes[i] for i in best]
    confidence = [float(probs[i, j]) for i, j in enumerate(best)]
    matrix = confusion(actual, predicted, classes)
    correct = sum(a == p for a, p in zip(actual, predicted, strict=True))
    created = datetime.now(UTC)
    run = {
        "run_id": run_id,
        "model_id": model_id,
        "dataset_id": dataset_id,
        "created_at": iso_utc(created),
        "rows": len(df),
        "accuracy": correct / len(df) if len(df) else 0.0,
        "flip_fraction": flip_fraction,
        "seed": seed,
        "labels": list(classes),
        "confusion_matrix": matrix,
        "per_class": per_class(matrix, classes),
        "actual": actual,
        "predicted": predicted,
        "probability": confidence,
        "flipped": flipped,
    }
    records = df.to_dict(orient="records")
    info = TestRunInfo(run_id, model_id, dataset_id, list(classes), created)
    rows = [
        TestedRow(i, {**records[i], LABEL: actual[i]}, predicted[i], probs[i].tolist())
        for i in range(len(df))
    ]
    return BatchTestResult(run=run, info=info, rows=rows)
