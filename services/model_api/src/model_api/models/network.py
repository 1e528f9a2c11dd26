"""The Keras classifier and its numpy twin.

Training uses Keras (a Normalization layer adapted on the training rows, then the dense stack).
Scoring never calls ``model.predict`` (~59 ms a row here): ``Predictor`` runs the same forward
pass in numpy from the trained weights (~0.02 ms a row) and needs no TensorFlow at load time.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EPSILON = 1e-7  # keras.backend.epsilon(), the floor Normalization puts under the std


@dataclass(frozen=True)
class Predictor:
    """Standardize, then dense layers with relu, then softmax: the Keras model's arithmetic."""

    mean: np.ndarray
    std: np.ndarray
    kernels: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (rows, classes), for a (rows, 20) float matrix."""
        h = (np.asarray(x, dtype=np.float32) - self.mean) / self.std
        last = len(self.kernels) - 1
        for i, (w, b) in enumerate(zip(self.kernels, self.biases, strict=True)):
            h = h @ w + b
            if i < last:
                np.maximum(h, 0.0, out=h)
        h = h - h.max(axis=1, keepdims=True)
        e = np.exp(h)
        return e / e.sum(axis=1, keepdims=True)

    def is_finite(self) -> bool:
        """Whether every weight is a finite number (NaN weights would score NaN for any row)."""
        arrays = (self.mean, self.std, *self.kernels, *self.biases)
        return all(bool(np.isfinite(a).all()) for a in arrays)

    def to_bytes(self) -> bytes:
        """The weights as an ``.npz`` (what the object store keeps as ``predictor.npz``)."""
        arrays = {"mean": self.mean, "std": self.std}
        for i, (w, b) in enumerate(zip(self.kernels, self.biases, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w, b
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Predictor:
        with np.load(io.BytesIO(data)) as z:
            n = sum(1 for k in z.files if k.startswith("w"))
            return cls(
                mean=z["mean"],
                std=z["std"],
                kernels=tuple(z[f"w{i}"] for i in range(n)),
                biases=tuple(z[f"b{i}"] for i in range(n)),
            )

    @classmethod
    def from_keras(cls, model: Any) -> Predictor:
        """Read the weights out of a model built by ``build_model``."""
        import keras

        layers = model.layers
        norm = next(layer for layer in layers if isinstance(layer, keras.layers.Normalization))

        def arr(v: Any) -> np.ndarray:
            return np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32)

        mean = arr(norm.mean).reshape(-1)
        var = arr(norm.variance).reshape(-1)
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        return cls(
            mean=mean,
            std=np.maximum(np.sqrt(var), EPSILON).astype(np.float32),
            kernels=tuple(arr(d.kernel) for d in dense),
            biases=tuple(arr(d.bias) for d in dense),
        )


def build_model(
    x_train: np.ndarray, n_classes: int, hidden_layers: Sequence[int], learning_rate: float
) -> Any:
    """A compiled MLP whose first layer standardizes with the training rows' statistics.

    The course fed raw features (elevation ~100s next to ratios ~1); standardizing inside the
    model keeps scoring inputs raw while training converges in a few epochs.
    """
    import keras

    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(x_train)
    layers: list[Any] = [keras.Input(shape=(x_train.shape[1],)), norm]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden_layers]
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(layers)
    compile_model(model, learning_rate)
    return model


def compile_model(model: Any, learning_rate: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


EpochHook = Callable[[int, dict[str, float]], bool]
"""Called after each epoch with (epoch number from 1, logs); returns False to stop training."""


class TrainingDiverged(RuntimeError):
    """The loss or the weights stopped being finite numbers: the model learned nothing usable."""


def fit(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    validation: tuple[np.ndarray, np.ndarray] | None,
    on_epoch: EpochHook,
) -> dict[str, list[float]]:
    """Train in place; returns the Keras ``history.history`` (floats only).

    Like Keras' ``TerminateOnNaN``, a batch whose loss is NaN or inf stops training at once, but
    here it raises ``TrainingDiverged`` saying where, so the job can fail with that reason
    instead of saving weights that are NaN.
    """
    import keras

    class _Hook(keras.callbacks.Callback):
        diverged: str | None = None
        epoch = 0

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            loss = float((logs or {}).get("loss", 0.0))
            if not np.isfinite(loss) and self.diverged is None:
                self.diverged = (
                    f"the training loss became {loss} in batch {batch + 1} of epoch {self.epoch}"
                )
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if self.diverged is not None:
                return
            clean = {k: float(v) for k, v in (logs or {}).items()}
            if not on_epoch(epoch + 1, clean):
                self.model.stop_training = True

    hook = _Hook()
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation,
        shuffle=True,
        verbose=0,
        callbacks=[hook],
    )
    if hook.diverged is not None:
        raise TrainingDiverged(
            f"training diverged: {hook.diverged}; try a lower learning rate, or check the data "
            "set for extreme values"
        )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def trained_predictor(model: Any, x: np.ndarray) -> tuple[Predictor, np.ndarray]:
    """The fitted model's predictor and its probabilities on ``x`` (its training rows), or
    ``TrainingDiverged``: a NaN that never showed in the loss still poisons every score."""
    predictor = Predictor.from_keras(model)
    if not predictor.is_finite():
        raise TrainingDiverged(
            "training diverged: the trained weights are not finite numbers; check the data set "
            "for extreme values"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        probs = predictor.probabilities(x)
    if not np.isfinite(probs).all():
        raise TrainingDiverged(
            "training diverged: the model's outputs on its own training rows are not finite"
        )
    return predictor, probs


def keras_bytes(model: Any) -> bytes:
    """The model as a ``.keras`` file's bytes (Keras writes only to a path: a temporary one)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


def keras_from_bytes(data: bytes) -> Any:
    import keras

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(data)
        return keras.models.load_model(path)


def set_seed(seed: int | None) -> None:
    """Make one training reproducible (the single training worker owns the global RNGs)."""
    if seed is not None:
        import keras

        keras.utils.set_random_seed(seed)
