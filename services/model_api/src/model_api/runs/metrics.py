"""Evaluation arithmetic shared by training (holdout metrics) and batch tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def stratified_split(
    labels: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, holdout) with ``fraction`` of each class held out.

    Keras' ``validation_split`` takes the *last* rows; the data set is sorted by class, so that
    would hold out only virginica. A per-class shuffle keeps the holdout representative.
    """
    train: list[np.ndarray] = []
    hold: list[np.ndarray] = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        n_hold = 0
        if fraction > 0 and len(idx) > 1:  # at least one held out, at least one trained on
            n_hold = min(max(round(len(idx) * fraction), 1), len(idx) - 1)
        hold.append(idx[:n_hold])
        train.append(idx[n_hold:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(hold))


def cross_entropy(probs: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    return float(-np.log(p).mean()) if len(y) else 0.0


def confusion(
    actual: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    """Rows are actual classes, columns predicted, both in ``labels`` order."""
    pos = {name: i for i, name in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    for a, p in zip(actual, predicted, strict=True):
        m[pos[a], pos[p]] += 1
    return m.tolist()


def per_class(matrix: list[list[int]], labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1 and support per class (0.0 where undefined, as sklearn does)."""
    m = np.asarray(matrix, dtype=float)
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(labels):
        tp = m[i, i]
        predicted = m[:, i].sum()
        support = m[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support),
        }
    return out
