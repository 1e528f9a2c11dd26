"""Training that diverges on a client's data (real TensorFlow, over HTTP): the course routes
answer 422 ``training_diverged`` (the data's fault, not a server fault), and a retrain that
diverges keeps the model's previous version — same weights, same probabilities."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from model_api.schema.features import FEATURE_NAMES

from tests.support import bundled, model_api_kit

pytestmark = pytest.mark.slow


assert_error = model_api_kit.assert_error


def diverging_csv() -> str:
    """Uploadable (every value fits float32) but its elevation swings between ±3e38: the
    squared deviations overflow, so the loss or the weights stop being finite numbers."""
    df = pd.read_csv(io.StringIO(bundled.sample_csv(10, seed=1)))
    df["elevation"] = np.where(np.arange(len(df)) % 2 == 0, 3e38, -3e38)
    return df.to_csv(index=False)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with model_api_kit.offline_client(tmp_path_factory.mktemp("diverge")) as c:
        yield c


@pytest.fixture(scope="module")
def diverging(client: TestClient) -> int:
    r = client.post("/iris/datasets", data={"train": diverging_csv()})
    assert r.status_code == 200, r.text
    return int(r.text)


def probabilities(client: TestClient, model_id: int, rows: list[dict[str, Any]]) -> list[Any]:
    out = []
    for row in rows:
        r = client.post(f"/api/models/{model_id}/score", json={"features": row})
        assert r.status_code == 200, r.text
        out.append((r.json()["version"], r.json()["probabilities"]))
    return out


def test_course_create_on_diverging_data_is_a_422(client: TestClient, diverging: int) -> None:
    r = client.post("/iris/model", data={"dataset": str(diverging)})
    err = assert_error(r, 422, "training_diverged")
    assert "training diverged" in err["message"] and f"data set {diverging}" in err["message"]
    assert err["details"]["dataset_id"] == diverging and err["details"]["version"] == 0
    model = client.get(f"/api/models/{err['details']['model_id']}").json()
    assert model["status"] == "failed" and model["version"] == 0
    assert model["error"].startswith("training diverged")


def test_a_retrain_that_diverges_keeps_the_previous_version(
    client: TestClient, diverging: int
) -> None:
    good = client.post("/api/datasets", data={"csv": bundled.sample_csv(20, seed=3)}).json()
    r = client.post("/api/models", json={"dataset_id": good["id"], "epochs": 3, "seed": 5})
    assert r.status_code == 202, r.text
    model = model_api_kit.wait_for_model(client, r.json()["id"])
    assert model["status"] == "ready" and model["version"] == 1, model["error"]
    mid = model["id"]
    frame = pd.read_csv(io.StringIO(bundled.sample_csv(3, seed=8)))
    rows = [{n: float(row[n]) for n in FEATURE_NAMES} for _, row in frame.iterrows()]
    before = probabilities(client, mid, rows)
    versions = client.get(f"/api/models/{mid}/versions").json()["versions"]

    r = client.post(f"/api/models/{mid}/train", json={"dataset_id": diverging})
    assert r.status_code == 202, r.text
    failed = model_api_kit.wait_for_model(client, mid)
    assert failed["status"] == "failed" and failed["version"] == 1
    assert failed["error"].startswith("training diverged"), failed["error"]
    assert probabilities(client, mid, rows) == before  # the same weights answer, bit for bit

    r = client.put(f"/iris/model/{mid}", params={"dataset": diverging})
    err = assert_error(r, 422, "training_diverged")
    assert "training diverged" in err["message"] and "keeps version 1" in err["message"]
    assert err["details"] == {"model_id": mid, "dataset_id": diverging, "version": 1}
    assert client.get(f"/api/models/{mid}").json()["status"] == "failed"
    assert probabilities(client, mid, rows) == before
    assert client.get(f"/api/models/{mid}/versions").json()["versions"] == versions
    fields = ",".join(repr(v) for v in rows[0].values())
    course = client.get(f"/iris/model/{mid}/score", params={"fields": fields})
    assert course.status_code == 200 and course.text.startswith("Score done, class=")

    # ...and a retrain on good data afterwards still works from those weights.
    r = client.put(f"/iris/model/{mid}", params={"dataset": good["id"]})
    assert r.status_code == 200 and set(r.json()) >= {"loss", "accuracy"}, r.text
    assert client.get(f"/api/models/{mid}").json()["version"] == 2
