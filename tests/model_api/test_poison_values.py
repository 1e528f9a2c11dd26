"""Values float32 cannot hold, models that learned nothing, and non-finite outputs: each is a
clear 4xx that changes nothing, never a NaN in an answer or in the score table."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from model_api.core.errors import ApiError
from model_api.models import network
from model_api.models.finite import finite_probabilities
from model_api.models.network import Predictor
from model_api.runs.batch_test import TestedRow, TestRunInfo
from model_api.schema.features import FEATURE_NAMES, parse_csv
from model_api.scorelog.items import RecordError, build_items

from tests.support import bundled, model_api_kit

HEADER = "species," + ",".join(FEATURE_NAMES)
F32_MAX = float(np.finfo(np.float32).max)


def csv_with(cells: dict[tuple[int, str], str], rows: int = 3) -> str:
    """A valid CSV of ``rows`` rows with the given (row, column) cells replaced."""
    lines = [HEADER]
    for r in range(rows):
        values = {name: "1.5" for name in FEATURE_NAMES}
        values.update({c: v for (row, c), v in cells.items() if row == r})
        lines.append("setosa," + ",".join(values[n] for n in FEATURE_NAMES))
    return "\n".join(lines) + "\n"


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"} and err["code"] == code
    return err


# ----- uploads -----


@pytest.mark.parametrize("value", ["1e308", "-1e308", "3.5e38", "1e39", "1e309", "-inf"])
def test_a_value_beyond_float32_is_refused_naming_the_cell(value: str) -> None:
    text = csv_with({(1, "petal_width"): value, (2, "elevation"): value})
    with pytest.raises(ApiError) as err:
        parse_csv(text)
    assert err.value.status == 422 and err.value.code == "invalid_csv"
    assert "float32" in err.value.message
    assert err.value.details["cells"] == [
        {"row": 1, "column": "petal_width"},
        {"row": 2, "column": "elevation"},
    ]


def test_the_largest_float32_and_missing_values_are_told_apart() -> None:
    df = parse_csv(csv_with({(0, "elevation"): "3.4e38", (1, "elevation"): "-3.4e38"}))
    assert df["elevation"].tolist()[:2] == [3.4e38, -3.4e38]
    with pytest.raises(ApiError) as err:
        parse_csv(csv_with({(0, "elevation"): "abc", (2, "leaf_area_cm2"): "1e308"}))
    assert "not numbers" in err.value.message and "float32" in err.value.message
    assert [c["row"] for c in err.value.details["cells"]] == [0, 2]


# ----- the guards on outputs -----


def overflowing_predictor() -> Predictor:
    """Finite weights that overflow float32 for inputs near its limit."""
    return Predictor(
        mean=np.zeros(20, np.float32),
        std=np.ones(20, np.float32),
        kernels=(np.full((20, 3), 2.0, np.float32),),
        biases=(np.zeros(3, np.float32),),
    )


def test_finite_probabilities_names_the_rows_whose_output_is_not_finite() -> None:
    x = np.ones((4, 20), np.float32)
    x[2] = F32_MAX
    with pytest.raises(ApiError) as err:
        finite_probabilities(overflowing_predictor(), x)
    assert err.value.status == 422 and err.value.code == "output_not_finite"
    assert err.value.details == {"rows": [2], "count": 1}
    probs = finite_probabilities(overflowing_predictor(), x[:2])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_predictor_reports_non_finite_weights() -> None:
    good = overflowing_predictor()
    assert good.is_finite()
    bad = Predictor(good.mean, good.std, (np.full((20, 3), np.nan, np.float32),), good.biases)
    assert not bad.is_finite()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_probability_never_becomes_a_score_table_item(value: float) -> None:
    run = TestRunInfo("r-nan", 1, 0, ["setosa", "versicolor", "virginica"], datetime.now(UTC))
    good = TestedRow(0, {"species": "setosa", "elevation": 1.0}, "setosa", [0.9, 0.05, 0.05])
    bad = TestedRow(1, {"species": "setosa", "elevation": 1.0}, "setosa", [value, 0.0, 0.0])
    assert len(build_items(run, [good])) == 1
    with pytest.raises(RecordError, match="finite"):
        build_items(run, [good, bad])


# ----- training that diverges (real TensorFlow) -----


@pytest.mark.slow
def test_a_nan_loss_stops_training_and_says_where() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 20)).astype(np.float32)
    y = np.arange(64) % 3
    network.set_seed(0)
    model = network.build_model(x, 3, [4], 0.01)
    network.compile_model(model, 1e38)  # steps this large overflow the weights at once
    epochs: list[int] = []
    with pytest.raises(network.TrainingDiverged, match=r"loss became nan in batch \d+ of epoch 1"):
        network.fit(
            model,
            x,
            y,
            epochs=5,
            batch_size=32,
            validation=None,
            on_epoch=lambda e, logs: epochs.append(e) or True,
        )
    assert epochs == []  # the diverged epoch is not reported as progress


# ----- over HTTP (score log disabled) -----


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with model_api_kit.offline_client(tmp_path_factory.mktemp("poison")) as c:
        yield c


@pytest.mark.slow
def test_every_upload_path_refuses_1e308_and_stores_nothing(client: TestClient) -> None:
    before = client.get("/api/datasets").json()
    text = csv_with({(2, "sepal_area"): "1e308"})
    expected = [{"row": 2, "column": "sepal_area"}]
    for r in (
        client.post("/api/datasets", data={"csv": text}),
        client.post("/api/datasets", files={"file": ("big.csv", text.encode(), "text/csv")}),
        client.post("/iris/datasets", data={"train": text}),
        client.post("/iris/datasets", files={"train": ("big.csv", text.encode(), "text/csv")}),
    ):
        err = assert_error(r, 422, "invalid_csv")
        assert err["details"]["cells"] == expected, err
    assert client.get("/api/datasets").json() == before


def extreme_dataset_csv() -> str:
    """A class-balanced sample whose elevation swings between ±3e38: uploadable (float32 holds
    it) but its variance overflows float32, so training cannot produce finite weights."""
    df = pd.read_csv(io.StringIO(bundled.sample_csv(10, seed=1)))
    df["elevation"] = np.where(np.arange(len(df)) % 2 == 0, 3e38, -3e38)
    return df.to_csv(index=False)


@pytest.mark.slow
def test_a_model_that_learned_nothing_fails_and_never_scores(client: TestClient) -> None:
    ds = client.post("/api/datasets", data={"csv": extreme_dataset_csv()})
    assert ds.status_code == 201, ds.text
    r = client.post("/api/models", json={"dataset_id": ds.json()["id"], "epochs": 2, "seed": 1})
    assert r.status_code == 202, r.text
    model = model_api_kit.wait_for_model(client, r.json()["id"])
    assert model["status"] == "failed" and model["version"] == 0
    assert model["error"].startswith("training diverged") and "not finite" in model["error"]
    mid = model["id"]

    err = assert_error(
        client.post(f"/api/models/{mid}/score", json={"values": [1.0] * 20}), 409, "model_not_ready"
    )
    assert "training diverged" in err["message"] and err["details"]["status"] == "failed"
    fields = ",".join(["1.0"] * 20)
    assert_error(
        client.get(f"/iris/model/{mid}/score", params={"fields": fields}), 409, "model_not_ready"
    )
    assert_error(
        client.get(f"/iris/model/{mid}", params={"fields": fields}), 409, "model_not_ready"
    )
    assert_error(
        client.post(f"/api/models/{mid}/tests", json={"dataset_id": 0}), 409, "model_not_ready"
    )
    assert_error(
        client.get(f"/iris/model/{mid}/test", params={"dataset": 0}), 409, "model_not_ready"
    )
    assert not client.app.state.services.models.weights(mid)  # no predictor.npz, no model.keras


@pytest.fixture(scope="module")
def trained(client: TestClient) -> dict[str, Any]:
    ds = client.post("/api/datasets", data={"csv": bundled.sample_csv(20, seed=3)}).json()
    r = client.post("/api/models", json={"dataset_id": ds["id"], "epochs": 3, "seed": 5})
    model = model_api_kit.wait_for_model(client, r.json()["id"])
    assert model["status"] == "ready", model["error"]
    return model


@pytest.mark.slow
def test_an_output_that_overflows_is_a_422_not_a_nan(
    client: TestClient, trained: dict[str, Any]
) -> None:
    mid = trained["id"]
    extreme = [F32_MAX] * 20
    err = assert_error(
        client.post(f"/api/models/{mid}/score", json={"values": extreme}), 422, "output_not_finite"
    )
    assert err["details"] == {"rows": [0], "count": 1}
    fields = ",".join(repr(v) for v in extreme)
    assert_error(
        client.get(f"/iris/model/{mid}/score", params={"fields": fields}), 422, "output_not_finite"
    )

    runs_before = client.get("/api/runs").json()["total"]
    df = pd.read_csv(io.StringIO(bundled.sample_csv(2, seed=4)), dtype={"soil_type": float})
    df.loc[3, list(FEATURE_NAMES)] = F32_MAX
    ds = client.post("/api/datasets", data={"csv": df.to_csv(index=False)})
    assert ds.status_code == 201, ds.text
    for r in (
        client.post(f"/api/models/{mid}/tests", json={"dataset_id": ds.json()["id"]}),
        client.get(f"/iris/model/{mid}/test", params={"dataset": ds.json()["id"]}),
    ):
        err = assert_error(r, 422, "output_not_finite")
        assert err["details"] == {"rows": [3], "count": 1}
    assert client.get("/api/runs").json()["total"] == runs_before  # no run was stored
