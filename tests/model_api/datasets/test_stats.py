"""Aggregates of a data set for charts and grids: histogram bins, plotted columns, sorted pages
— checked against the bundled CSV computed independently here."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings

from tests.support.bundled import BUNDLED_CSV as BUNDLED


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = ApiSettings(data_dir=tmp_path_factory.mktemp("views"), scorelog_enabled=False)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with BUNDLED.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_histogram_counts_every_row_once_per_class(client, rows) -> None:
    body = client.get("/api/datasets/0/histogram", params={"column": "petal_length"}).json()
    assert body["dataset_id"] == 0 and body["column"] == "petal_length" and body["rows"] == 1200
    edges = body["edges"]
    assert edges == sorted(edges) and len(edges) >= 2
    for species, counts in body["counts"].items():
        values = [float(r["petal_length"]) for r in rows if r["species"] == species]
        assert counts == np.histogram(values, bins=edges)[0].tolist()
        assert sum(counts) == len(values) == 400
    fixed = client.get("/api/datasets/0/histogram", params={"column": "elevation", "bins": 7})
    assert len(fixed.json()["edges"]) == 8


def test_columns_returns_only_the_plotted_columns_and_the_labels(client, rows) -> None:
    body = client.get(
        "/api/datasets/0/columns", params=[("name", "elevation"), ("name", "petal_width")]
    )
    data = body.json()
    assert set(data["columns"]) == {"elevation", "petal_width"}
    assert data["columns"]["elevation"][:3] == [float(r["elevation"]) for r in rows[:3]]
    assert data["labels"] == [r["species"] for r in rows]


def test_rows_sort_the_whole_data_set_before_paging(client, rows) -> None:
    params = [("sort", "elevation:desc"), ("offset", "15"), ("limit", "15")]
    page = client.get("/api/datasets/0/rows", params=params).json()
    expected = sorted((float(r["elevation"]) for r in rows), reverse=True)[15:30]
    assert [r["elevation"] for r in page["rows"]] == expected and page["total"] == 1200
    two = client.get(
        "/api/datasets/0/rows",
        params=[("sort", "species"), ("sort", "elevation"), ("limit", "1000")],
    )
    got = [(r["species"], r["elevation"]) for r in two.json()["rows"]]
    assert got == sorted(got)


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/datasets/0/histogram", {"column": "nope"}, "unknown_column"),
        ("/api/datasets/0/histogram", {"column": "species"}, "not_numeric"),
        ("/api/datasets/0/columns", {"name": "nope"}, "unknown_column"),
        ("/api/datasets/0/rows", {"sort": "elevation:up"}, "invalid_sort"),
        ("/api/datasets/0/rows", {"sort": "nope"}, "invalid_sort"),
    ],
)
def test_bad_columns_are_a_clear_error(client, path, params, code) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] == code


def test_a_missing_data_set_is_404(client) -> None:
    r = client.get("/api/datasets/99/histogram", params={"column": "elevation"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "dataset_not_found"
