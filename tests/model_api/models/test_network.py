"""The numpy forward pass must give what Keras gives, before and after a save/load."""

from __future__ import annotations

import numpy as np
import pytest
from model_api.datasets.store import bundled_csv
from model_api.models import network
from model_api.models.network import Predictor
from model_api.schema.features import feature_matrix, parse_csv

pytestmark = pytest.mark.slow


def test_predictor_matches_keras_and_survives_save_load() -> None:
    df = parse_csv(bundled_csv())
    x = feature_matrix(df)
    classes = sorted(df["species"].unique())
    y = np.array([classes.index(s) for s in df["species"]])
    network.set_seed(3)
    model = network.build_model(x, len(classes), [8, 6], 0.01)
    epochs_seen: list[int] = []
    history = network.fit(
        model,
        x,
        y,
        epochs=2,
        batch_size=64,
        validation=None,
        on_epoch=lambda e, logs: epochs_seen.append(e) or True,
    )
    assert epochs_seen == [1, 2] and len(history["loss"]) == 2

    predictor = Predictor.from_keras(model)
    expected = np.asarray(model(x[:200], training=False))
    got = predictor.probabilities(x[:200])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)

    np.testing.assert_array_equal(
        Predictor.from_bytes(predictor.to_bytes()).probabilities(x), predictor.probabilities(x)
    )
    reloaded = Predictor.from_keras(network.keras_from_bytes(network.keras_bytes(model)))
    np.testing.assert_allclose(reloaded.probabilities(x), predictor.probabilities(x), atol=1e-6)


def test_hook_returning_false_stops_training() -> None:
    x = np.random.default_rng(0).normal(size=(60, 20)).astype(np.float32)
    y = np.arange(60) % 3
    model = network.build_model(x, 3, [4], 0.01)
    history = network.fit(
        model, x, y, epochs=50, batch_size=16, validation=None, on_epoch=lambda e, logs: e < 3
    )
    assert len(history["loss"]) == 3
