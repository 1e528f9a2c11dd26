"""The course's ``/iris`` routes byte for byte: what a course client reads (``int(r.text)``,
``int(text.split('=')[-1])``, ``pd.read_json``, ``r.json()``), content types included."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import plotly.express as px
import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings

from tests.support import bundled

pytestmark = pytest.mark.slow

TEXT = "text/plain; charset=utf-8"
UPLOAD_LIMIT = 3 * 1024 * 1024
CLASSES = ["setosa", "versicolor", "virginica"]  # LabelEncoder order: sorted names


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = ApiSettings(
        data_dir=tmp_path_factory.mktemp("course"),
        scorelog_enabled=False,
        max_upload_bytes=UPLOAD_LIMIT,
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def model_id(client: TestClient) -> int:
    """A model built and trained by the course route on the bundled data set (dataset 0)."""
    r = client.post("/iris/model", data={"dataset": "0"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == TEXT and r.content.isdigit()
    return int(r.text)


def assert_error(r: Any, status: int, code: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"}
    if code:
        assert err["code"] == code


def big_csv(min_bytes: int) -> str:
    """The bundled rows repeated until the CSV is at least ``min_bytes`` long."""
    df = bundled.bundled_frame()
    copies = min_bytes // len(df.to_csv(index=False)) + 1
    return pd.concat([df] * copies).to_csv(index=False)


def test_upload_answers_the_new_index_as_plain_text(client: TestClient) -> None:
    text = bundled.sample_csv(5, seed=1)
    before = len(client.get("/api/datasets").json())
    as_form = client.post("/iris/datasets", data={"train": text})
    as_text_part = client.post("/iris/datasets", files={"train": (None, text)})
    as_file = client.post("/iris/datasets", files={"train": ("train.csv", text.encode())})
    for i, r in enumerate((as_form, as_text_part, as_file)):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == TEXT
        assert r.content == str(before + i).encode()
    assert client.get(f"/api/datasets/{before}").json()["rows"] == 15


def test_uploads_over_one_mib_are_accepted_up_to_the_limit(client: TestClient) -> None:
    text = big_csv(3 * 512 * 1024)  # 1.5 MiB: over Starlette's default 1 MiB part limit
    assert 1024 * 1024 < len(text) < UPLOAD_LIMIT
    rows = len(text.splitlines()) - 1
    for send in ({"data": {"train": text}}, {"files": {"train": (None, text)}}):
        r = client.post("/iris/datasets", **send)
        assert r.status_code == 200, r.text
        assert client.get(f"/api/datasets/{int(r.text)}").json()["rows"] == rows
    before = client.get("/api/datasets").json()
    too_big = big_csv(UPLOAD_LIMIT + 1)
    for send in (
        {"data": {"train": too_big}},
        {"files": {"train": (None, too_big)}},
        {"files": {"train": ("big.csv", too_big.encode())}},
    ):
        assert_error(client.post("/iris/datasets", **send), 413, "too_large")
    assert client.get("/api/datasets").json() == before  # nothing half-created
    assert_error(client.post("/iris/datasets", data={"other": "x"}), 422, "no_csv")
    assert_error(client.post("/iris/datasets", data={"train": "a,b\n1,2\n"}), 422, "invalid_csv")


def test_create_takes_dataset_from_form_query_or_json(client: TestClient, model_id: int) -> None:
    small = int(client.post("/iris/datasets", data={"train": bundled.sample_csv(10)}).text)
    made = [
        client.post("/iris/model", json={"dataset": small}),
        client.post("/iris/model", params={"dataset": small}),
        client.post("/iris/model", files={"dataset": (None, str(small))}),
    ]
    ids = []
    for r in made:
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == TEXT and r.content.isdigit()
        ids.append(int(r.text))
    assert ids == sorted(ids) and model_id not in ids
    for ident in ids:
        model = client.get(f"/api/models/{ident}").json()
        assert model["status"] == "ready" and model["dataset_id"] == small
    assert_error(client.post("/iris/model", json={"dataset": "x"}), 422)
    assert_error(client.post("/iris/model", json={}), 422)
    assert_error(client.post("/iris/model", data={"dataset": "999"}), 404, "dataset_not_found")


def test_score_answers_the_class_index_as_plain_text(client: TestClient, model_id: int) -> None:
    df = bundled.bundled_frame()
    for species in CLASSES:
        row = df[df["species"] == species].iloc[0]
        fields = ",".join(str(v) for v in row.drop("species").tolist())
        api = client.post(f"/api/models/{model_id}/score", json={"values": [float(v) for v in
                          row.drop("species").tolist()]}).json()  # fmt: skip
        expected = f"Score done, class={CLASSES.index(api['class_name'])}".encode()
        for path in (f"/iris/model/{model_id}/score", f"/iris/model/{model_id}"):
            r = client.get(path, params={"fields": fields})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == TEXT
            assert r.content == expected
            assert int(r.text.split("=")[-1]) == api["class_index"]  # the model's order is sorted
    setosa = ",".join(str(v) for v in df.iloc[0].drop("species").tolist())
    assert client.get(f"/iris/model/{model_id}/score", params={"fields": setosa}).content == (
        b"Score done, class=0"
    )
    assert_error(client.get(f"/iris/model/{model_id}/score", params={"fields": "1,2"}), 422)
    assert_error(client.get("/iris/model/999/score", params={"fields": setosa}), 404)
    assert_error(client.get("/iris/model/999", params={"fields": setosa}), 404)


def test_test_answers_indices_that_the_course_dashboard_plots(
    client: TestClient, model_id: int
) -> None:
    r = client.get(f"/iris/model/{model_id}/test", params={"dataset": 0})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["accuracy", "actual", "predicted"]
    df = bundled.bundled_frame()
    assert body["actual"] == [CLASSES.index(s) for s in df["species"]]
    services = client.app.state.services
    run = services.runs.full(client.get("/api/runs", params={"model_id": model_id}).json()[
        "items"][0]["run_id"])  # fmt: skip
    assert body["predicted"] == [CLASSES.index(p) for p in run["predicted"]]
    assert body["accuracy"] == run["accuracy"]
    assert r.content == json.dumps(body, separators=(",", ":")).encode()
    # The course dashboard: pd.read_json(r.text) (pandas >= 3 needs the text wrapped in a
    # StringIO; older pandas took the string itself), then a line plot of both columns.
    frame = pd.read_json(io.StringIO(r.text))
    assert list(frame.columns) == ["accuracy", "actual", "predicted"] and len(frame) == 1200
    figure = px.line(frame, y=["actual", "predicted"])
    assert [t.name for t in figure.data] == ["actual", "predicted"]
    assert list(figure.data[0].y) == body["actual"]
    assert_error(client.get("/iris/model/999/test", params={"dataset": 0}), 404)
    assert_error(client.get(f"/iris/model/{model_id}/test", params={"dataset": 999}), 404)
    assert_error(client.get(f"/iris/model/{model_id}/test"), 422)


def test_retrain_answers_the_keras_history(client: TestClient, model_id: int) -> None:
    version = client.get(f"/api/models/{model_id}").json()["version"]
    r = client.put(f"/iris/model/{model_id}", params={"dataset": 0})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    history = r.json()
    assert list(history) == ["loss", "accuracy", "val_loss", "val_accuracy"]  # validation on
    model = client.get(f"/api/models/{model_id}").json()
    epochs = model["params"]["epochs"]
    assert all(len(v) == epochs and all(isinstance(x, float) for x in v) for v in history.values())
    assert history == model["history"] and model["version"] == version + 1
    assert r.content == json.dumps(history, separators=(",", ":")).encode()
    assert_error(client.put("/iris/model/999", params={"dataset": 0}), 404)
    assert_error(client.put(f"/iris/model/{model_id}"), 422)
