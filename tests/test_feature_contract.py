"""The feature order is a contract shared by model_api and the dashboard (and the course's
``fields=f1,...,f20`` clients): both must follow the bundled CSV's header exactly.

The dashboard may not import model_api (no TensorFlow in its process): it reads the order from
``GET /api/schema`` at run time, so this test pins the schema's order to the header and the
dashboard's CSV-line parsing to the schema's width.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dashboard import features as ui_features
from model_api.config import ApiSettings
from model_api.schema import features as api_features
from model_api.schema.document import schema

BUNDLED = (
    Path(__file__).resolve().parents[1]
    / "services/model_api/src/model_api/data/iris_extended_encoded.csv"
)


def test_both_services_use_the_csv_header_order() -> None:
    with BUNDLED.open() as f:
        header = next(csv.reader(f))
    assert header[0] == api_features.LABEL == ui_features.LABEL
    assert list(api_features.FEATURE_NAMES) == header[1:]
    order = schema(ApiSettings())["feature_order"]
    assert order == header[1:]
    with BUNDLED.open() as f:
        row = list(csv.reader(f))[1]
    assert ui_features.parse_csv_line(",".join(row[1:]), len(order)) == [float(v) for v in row[1:]]
