"""The score-table item follows the record contract exactly (pure unit tests)."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from model_api.runs.store import new_run_id
from model_api.scorelog.items import RecordError, build_item, build_items, plain

from tests.support.bundled import bundled_rows
from tests.support.scorelog_kit import CLASSES, Row, Run

COURSE_PREFIX = "{'species': 'setosa', 'elevation': 161.8, 'soil_type': 0, 'sepal_length': 5.16, "


def first_row_item() -> dict:
    row = bundled_rows()[0]
    run = Run(
        run_id="20261125T031509123Z-7f3a",
        model_id=7,
        dataset_id=0,
        created_at=datetime(2026, 11, 25, 3, 15, 9, 123000, tzinfo=UTC),
    )
    return build_item(run, Row(42, row, "setosa", [0.9876, 0.0100, 0.0024]))


def test_first_bundled_row_gives_the_course_features_string() -> None:
    item = first_row_item()
    features = item["Features"]["S"]
    assert features.startswith(COURSE_PREFIX)
    assert features.endswith("'area_ratios': 41.265478424015015}")
    parsed = ast.literal_eval(features)
    assert parsed == bundled_rows()[0]
    assert next(iter(parsed)) == "species"


def test_item_has_exactly_the_contract_attributes_and_types() -> None:
    item = first_row_item()
    assert item == {
        "partition_key": {"S": "20261125T031509123Z-7f3a"},
        "sort_key": {"S": "000042"},
        "Features": item["Features"],
        "Class": {"S": "setosa"},
        "Actual": {"S": "setosa"},
        "Probability": {"S": "0.9876"},
        "model_id": {"S": "7"},
        "dataset_id": {"S": "0"},
        "probabilities": {"S": item["probabilities"]["S"]},
        "created_at": {"S": "2026-11-25T03:15:09.123000Z"},
    }
    assert json.loads(item["probabilities"]["S"]) == dict(
        zip(CLASSES, [0.9876, 0.01, 0.0024], strict=True)
    )


def test_every_attribute_is_a_string_byte_for_byte() -> None:
    """What a course-era Lambda reads: only S values, and these exact bytes."""
    item = first_row_item()
    assert {kind for value in item.values() for kind in value} == {"S"}
    extras = {k: item[k] for k in ("model_id", "dataset_id", "probabilities", "created_at")}
    assert json.dumps(extras, separators=(",", ":")) == (
        '{"model_id":{"S":"7"},"dataset_id":{"S":"0"},'
        '"probabilities":{"S":"{\\"setosa\\": 0.9876, \\"versicolor\\": 0.01, '
        '\\"virginica\\": 0.0024}"},"created_at":{"S":"2026-11-25T03:15:09.123000Z"}}'
    )


def test_numpy_values_are_written_as_plain_python() -> None:
    row = {k: (np.float64(v) if isinstance(v, float) else v) for k, v in bundled_rows()[0].items()}
    row["soil_type"] = np.int64(0)
    row["species"] = np.str_("setosa")
    run = Run(run_id="r-1")
    item = build_item(run, Row(0, row, np.str_("versicolor"), list(np.array([0.1, 0.7, 0.2]))))
    assert "np." not in item["Features"]["S"]
    assert item["Features"]["S"].startswith(COURSE_PREFIX)
    assert item["Class"]["S"] == "versicolor"
    assert item["Actual"]["S"] == "setosa"
    assert float(item["Probability"]["S"]) == pytest.approx(0.7)
    assert type(plain(np.float32(0.5))) is float


def test_probability_is_the_predicted_class_share_and_created_at_is_utc() -> None:
    tz = timezone(timedelta(hours=2))
    run = Run(run_id="r-2", created_at=datetime(2026, 1, 1, 12, 0, tzinfo=tz))
    item = build_item(run, Row(1, {"species": "virginica"}, "virginica", [0.05, 0.15, 0.8]))
    assert item["Probability"]["S"] == "0.8"
    assert item["created_at"]["S"] == "2026-01-01T10:00:00Z"


def test_sort_keys_sort_by_position_and_widen_for_huge_runs() -> None:
    run = Run(run_id="r-3")
    small = build_items(run, [Row(p, {"species": "setosa"}, "setosa", [1, 0, 0]) for p in (0, 9)])
    assert [i["sort_key"]["S"] for _, i in small] == ["000000", "000009"]
    big = build_items(run, [Row(p, {"species": "setosa"}, "setosa", [1, 0, 0]) for p in (5, 10**6)])
    assert [i["sort_key"]["S"] for _, i in big] == ["0000005", "1000000"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (Row(0, {"species": "setosa"}, "daisy", [1, 0, 0]), "not in"),
        (Row(0, {"species": "setosa"}, "setosa", [1, 0]), "probabilities"),
        (Row(0, {"x": 1.0}, "setosa", [1, 0, 0]), "species"),
        (Row(-1, {"species": "setosa"}, "setosa", [1, 0, 0]), ">= 0"),
    ],
)
def test_invalid_rows_are_refused(row: Row, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        build_items(Run(run_id="r-4"), [row])


def test_duplicate_positions_are_refused() -> None:
    rows = [Row(1, {"species": "setosa"}, "setosa", [1, 0, 0])] * 2
    with pytest.raises(RecordError, match="unique"):
        build_items(Run(run_id="r-5"), rows)


def test_run_ids_created_in_the_same_millisecond_differ_and_sort_by_time() -> None:
    moment = datetime(2026, 11, 25, 3, 15, 9, 123456, tzinfo=UTC)
    ids = [new_run_id(moment) for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("20261125T031509123Z-") and len(i) == 24 for i in ids)
    later = new_run_id(moment + timedelta(milliseconds=1))
    assert later > max(ids)
