"""The guard that keeps non-finite numbers out of answers and out of the score table.

Uploads and score requests only accept values float32 can hold, yet a finite input can still
overflow inside the network (say 3e38 times a weight of 2): the softmax then yields NaN. Such a
probability is refused here, naming the rows, rather than sent as JSON (which cannot encode NaN)
or written to DynamoDB as the string ``"nan"``.
"""

from __future__ import annotations

import numpy as np

from model_api.core.errors import invalid
from model_api.models.network import Predictor


def finite_probabilities(predictor: Predictor, x: np.ndarray) -> np.ndarray:
    """Class probabilities for ``x``, or a 422 naming the rows whose output is not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        probs = predictor.probabilities(x)
    bad = ~np.isfinite(probs).all(axis=1)
    if bad.any():
        rows = [int(r) for r in np.flatnonzero(bad)]
        raise invalid(
            "the model's output is not a finite number for some rows: their values are too "
            "extreme for it",
            {"rows": rows[:20], "count": len(rows)},
            code="output_not_finite",
        )
    return probs
