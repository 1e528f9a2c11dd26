"""The feature order is a contract shared by model_api and the dashboard (and the course's
``fields=f1,...,f20`` clients): both must follow the bundled CSV's header exactly.

The dashboard may not import model_api (no TensorFlow in its process), so the contract is shared
by this test rather than by an import.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dashboard import features as ui_features
from model_api import features as api_features

BUNDLED = (
    Path(__file__).resolve().parents[1]
    / "services/model_api/src/model_api/data/iris_extended_encoded.csv"
)


def test_both_services_use_the_csv_header_order() -> None:
    with BUNDLED.open() as f:
        header = next(csv.reader(f))
    assert header[0] == api_features.LABEL == ui_features.LABEL
    assert list(api_features.FEATURE_NAMES) == header[1:]
    assert list(ui_features.FEATURE_ORDER) == header[1:]
