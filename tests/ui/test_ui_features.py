"""dashboard.features against every row of the bundled CSV, and the CSV-line parser."""

from __future__ import annotations

import math

import pytest
from dashboard import features as ft


def test_the_schema_names_the_csvs_columns_and_the_data_pages_label(bundled, client) -> None:
    schema = client.schema()
    assert [c for c in bundled[0] if c != ft.LABEL] == schema["feature_order"]
    assert schema["label"] == ft.LABEL
    assert ft.independent(schema)[:2] == ["elevation", "soil_type"]
    assert ft.labels(schema)["leaf_area_cm2"] == "Leaf area (cm²)"


def test_derived_features_match_every_bundled_row(bundled, client) -> None:
    assert len(bundled) == 1200
    schema = client.schema()
    names, order = ft.independent(schema), schema["feature_order"]
    for index, row in enumerate(bundled):
        computed = ft.full_row(client, ft.inputs_from_row(row, names))
        assert list(computed) == order
        for name in order:
            assert math.isclose(computed[name], row[name], rel_tol=1e-9, abs_tol=1e-9), (
                f"row {index} {name}: computed {computed[name]!r}, CSV {row[name]!r}"
            )


def test_full_row_rejects_missing_non_numeric_and_non_positive_inputs(bundled, client) -> None:
    inputs = ft.inputs_from_row(bundled[0], ft.independent(client.schema()))
    with pytest.raises(ft.FeatureError, match="Petal width"):
        ft.full_row(client, inputs | {"petal_width": 0})
    with pytest.raises(ft.FeatureError, match="missing"):
        ft.full_row(client, inputs | {"elevation": None})
    with pytest.raises(ft.FeatureError, match=r"Leaf area.*not a number"):
        ft.full_row(client, inputs | {"leaf_area_cm2": "abc"})
    with pytest.raises(ft.FeatureError, match="Soil type"):
        ft.full_row(client, inputs | {"soil_type": 7})
    assert (
        ft.full_row(client, inputs | {"soil_type": "2"})["soil_type"] == 2.0
    )  # the select's string


def test_parse_csv_line_accepts_twenty_values_or_a_labelled_row(make) -> None:
    lines = make.csv_path.read_text().splitlines()
    labelled = lines[1]
    values = ft.parse_csv_line(labelled, 20)
    assert len(values) == 20 and values[0] == 161.8
    assert ft.parse_csv_line(labelled.split(",", 1)[1], 20) == values


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "got 0"),
        ("1,2,3", "got 3"),
        (",".join(["1"] * 19 + ["x"]), "#20 'x'"),
        (",".join(["1"] * 19 + ["nan"]), "Not a finite number"),
    ],
)
def test_parse_csv_line_explains_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(ft.FeatureError, match=message):
        ft.parse_csv_line(line, 20)
