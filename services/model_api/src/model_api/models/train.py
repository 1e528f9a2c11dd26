"""Train one new network on a data frame: pure (no stores, no HTTP), so a job can call it.

The same recipe for every training (``models.training`` and the retrain flow): standardisation
inside the model, stratified holdout, seeded, from scratch, so a version's lineage names exactly
what made it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model_api.models import network
from model_api.models.network import Predictor
from model_api.runs.metrics import cross_entropy, stratified_split
from model_api.schema.features import FEATURE_NAMES, LABEL, feature_matrix

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
OnEpoch = Callable[[int, dict[str, float]], bool]


def row_digest(values: Iterable[Any]) -> str:
    """A short digest of one row's 20 feature values (not its label): which rows a version saw."""
    text = ",".join(repr(round(float(v), 6)) for v in values)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def frame_digests(df: pd.DataFrame) -> list[str]:
    return [row_digest(r) for r in df[list(FEATURE_NAMES)].itertuples(index=False)]


def training_set_digest(df: pd.DataFrame) -> str:
    """sha256 of the training set as canonical CSV (label + 20 features, row order kept)."""
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()


@dataclass
class Fitted:
    model: Any  # the Keras model, kept for saving
    predictor: Predictor
    history: dict[str, list[float]]
    metrics: dict[str, Any]


def fit_new(
    df: pd.DataFrame,
    classes: list[str],
    params: dict[str, Any],
    on_epoch: OnEpoch,
    resume_from: bytes | None = None,
) -> Fitted:
    """Fit a fresh network on ``df`` (labels in ``classes``) with the given hyper-parameters, or
    go on training the saved Keras model ``resume_from`` (its ``.keras`` bytes) (a plain retraining,
    ``models.training``)."""
    pos = {c: i for i, c in enumerate(classes)}
    x = feature_matrix(df)
    y = np.array([pos[s] for s in df[LABEL]], dtype=np.int64)
    rng = np.random.default_rng(params.get("seed"))
    train_idx, hold_idx = stratified_split(y, float(params["validation_split"]), rng)
    network.set_seed(params.get("seed"))
    if resume_from is not None:
        model = network.keras_from_bytes(resume_from)
        network.compile_model(model, float(params["learning_rate"]))
    else:
        model = network.build_model(
            x[train_idx], len(classes), params["hidden_layers"], float(params["learning_rate"])
        )
    validation = (x[hold_idx], y[hold_idx]) if len(hold_idx) else None
    history = network.fit(
        model,
        x[train_idx],
        y[train_idx],
        epochs=int(params["epochs"]),
        batch_size=int(params["batch_size"]),
        validation=validation,
        on_epoch=on_epoch,
    )
    predictor, probs = network.trained_predictor(model, x)  # TrainingDiverged if not finite
    correct = probs.argmax(axis=1) == y
    has_hold = len(hold_idx) > 0
    metrics = {
        "train_accuracy": float(correct[train_idx].mean()),
        "holdout_accuracy": float(correct[hold_idx].mean()) if has_hold else None,
        "holdout_loss": cross_entropy(probs[hold_idx], y[hold_idx]) if has_hold else None,
        "holdout_rows": len(hold_idx),
    }
    return Fitted(model, predictor, {k: history.get(k, []) for k in HISTORY_KEYS}, metrics)
