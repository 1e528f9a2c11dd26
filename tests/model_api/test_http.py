"""The HTTP API end to end in-process (score log disabled here; see the DynamoDB tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings
from model_api.schema.features import FEATURE_NAMES

from tests.support import bundled, model_api_kit

pytestmark = pytest.mark.slow

FIRST_ROW = [161.8, 0, 5.16, 3.41, 1.64, 0.26, 17.5956, 0.4264, 1.5131964809384164,
             6.3076923076923075, 3.1463414634146343, 13.115384615384615, 3.5200000000000005,
             3.1500000000000004, 5.33, 18.33, 53.21, 4.194710955477147, 0.6529931086925803,
             41.265478424015015]  # fmt: skip


def settings_for(data_dir: Path) -> ApiSettings:
    return ApiSettings(data_dir=data_dir, scorelog_enabled=False, max_epochs=50)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model_api_http")


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(data_dir))) as c:
        yield c


@pytest.fixture(scope="module")
def trained(client: TestClient) -> dict[str, Any]:
    """One model trained on the bundled data set, shared by the tests of this module."""
    r = client.post("/api/models", json={"dataset_id": 0, "epochs": 8, "seed": 7})
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("queued", "training")
    model = model_api_kit.wait_for_model(client, r.json()["id"])
    assert model["status"] == "ready", model["error"]
    return model


def assert_error(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"} and err["message"]
    if code:
        assert err["code"] == code
    return err


def test_health(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
    r = client.get("/health/ready")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "checks": {
            "storage": "ok",
            "object_store": "ok",
            "registry_table": "ok",
            "score_log": "disabled",
        },
    }


def test_openapi_document_lists_the_contract_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/datasets",
        "/api/datasets/{dataset_id}/rows",
        "/api/models/{model_id}/score",
        "/api/models/{model_id}/tests",
        "/api/runs/{run_id}/records",
        "/api/retrain",
        "/iris/model/{model_id}/test",
    ):
        assert path in paths, path


def test_bundled_dataset_is_dataset_zero(client: TestClient) -> None:
    ds = client.get("/api/datasets/0").json()
    assert ds["id"] == 0 and ds["rows"] == 1200 and len(ds["feature_names"]) == 20
    assert ds["class_counts"] == {"setosa": 400, "versicolor": 400, "virginica": 400}
    assert ds["columns"][0] == "species"
    page = client.get("/api/datasets/0/rows", params={"offset": 0, "limit": 2}).json()
    assert page["total"] == 1200 and len(page["rows"]) == 2
    assert page["rows"][0]["elevation"] == 161.8 and page["rows"][0]["soil_type"] == 0


def test_dataset_upload_as_file_and_as_text_then_delete(client: TestClient) -> None:
    text = bundled.sample_csv(5)
    r = client.post("/api/datasets", files={"file": ("small.csv", text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    by_file = r.json()
    assert by_file["name"] == "small.csv" and by_file["rows"] == 15
    r = client.post("/api/datasets", data={"csv": text, "name": "typed"})
    assert r.status_code == 201 and r.json()["name"] == "typed"
    by_text = r.json()
    assert by_text["id"] == by_file["id"] + 1
    ids = [d["id"] for d in client.get("/api/datasets").json()]
    assert by_file["id"] in ids and by_text["id"] in ids
    assert client.delete(f"/api/datasets/{by_text['id']}").status_code == 204
    assert_error(client.get(f"/api/datasets/{by_text['id']}"), 404, "dataset_not_found")
    assert_error(client.delete(f"/api/datasets/{by_text['id']}"), 404)


def test_bad_uploads_change_nothing(client: TestClient) -> None:
    before = client.get("/api/datasets").json()
    assert_error(client.post("/api/datasets", data={"csv": "a,b\n1,2\n"}), 422, "invalid_csv")
    assert_error(client.post("/api/datasets", data={"name": "x"}), 422, "no_csv")
    assert_error(client.delete("/api/datasets/0"), 409, "dataset_protected")
    assert client.get("/api/datasets").json() == before


def test_model_resource_after_training(trained: dict[str, Any]) -> None:
    assert trained["version"] == 1 and trained["error"] is None
    assert trained["classes"] == ["setosa", "versicolor", "virginica"]
    assert trained["feature_names"] == list(FEATURE_NAMES)
    assert trained["params"]["hidden_layers"] == [10, 10] and trained["params"]["seed"] == 7
    assert trained["progress"]["epoch"] == 8 == trained["progress"]["epochs"]
    assert all(len(trained["history"][k]) == 8 for k in ("loss", "accuracy", "val_loss"))
    m = trained["metrics"]
    assert m["holdout_rows"] == 240  # 20 % of each class
    assert m["holdout_accuracy"] > 0.9 and m["train_accuracy"] > 0.9  # the course reported ~0.98
    assert m["holdout_loss"] == pytest.approx(trained["history"]["val_loss"][-1], rel=1e-3)


def test_score_by_values_and_by_features_agree(client: TestClient, trained: dict[str, Any]) -> None:
    mid = trained["id"]
    by_values = client.post(f"/api/models/{mid}/score", json={"values": FIRST_ROW}).json()
    features = dict(zip(FEATURE_NAMES, FIRST_ROW, strict=True))
    by_features = client.post(f"/api/models/{mid}/score", json={"features": features}).json()
    assert by_values == by_features
    assert by_values["class_name"] == "setosa" and by_values["class_index"] == 0
    assert sum(by_values["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"values": FIRST_ROW[:19]}, "invalid_input"),
        ({"features": {"elevation": 1.0}}, "invalid_input"),
        ({"values": FIRST_ROW, "features": {}}, "validation_error"),
        ({}, "validation_error"),
        ({"values": ["x"] * 20}, "validation_error"),
    ],
)
def test_bad_score_requests(
    client: TestClient, trained: dict[str, Any], body: Any, code: str
) -> None:
    assert_error(client.post(f"/api/models/{trained['id']}/score", json=body), 422, code)


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert_error(client.get("/api/models/999"), 404, "model_not_found")
    assert_error(client.post("/api/models/999/tests", json={"dataset_id": 0}), 404)
    assert_error(client.post("/api/models", json={"dataset_id": 999}), 404, "dataset_not_found")
    assert_error(client.get("/api/runs/nope"), 404, "run_not_found")


def test_bad_model_params_are_422(client: TestClient) -> None:
    before = client.get("/api/models").json()
    for body in (
        {"dataset_id": 0, "epochs": 0},
        {"dataset_id": 0, "epochs": 51},  # over IRIS_MAX_EPOCHS of this app
        {"dataset_id": 0, "hidden_layers": [0]},
        {"dataset_id": 0, "learning_rate": -1},
        {"dataset_id": 0, "bogus": 1},
    ):
        assert client.post("/api/models", json=body).status_code == 422, body
    assert client.get("/api/models").json() == before


def test_batch_test_with_flips_and_runs_listing(
    client: TestClient, trained: dict[str, Any]
) -> None:
    mid = trained["id"]
    clean = client.post(f"/api/models/{mid}/tests", json={"dataset_id": 0}).json()
    r = client.post(
        f"/api/models/{mid}/tests", json={"dataset_id": 0, "flip_fraction": 0.1, "seed": 1}
    )
    assert r.status_code == 201
    run = r.json()
    assert run["rows"] == 1200 and len(run["flipped"]) == 120
    assert run["labels"] == trained["classes"]
    assert len(run["actual"]) == len(run["predicted"]) == len(run["probability"]) == 1200
    cm = run["confusion_matrix"]
    assert sum(map(sum, cm)) == 1200
    assert run["accuracy"] == pytest.approx(sum(cm[i][i] for i in range(3)) / 1200)
    # the prediction does not depend on the label: flipped rows are the ones that changed
    assert run["predicted"] == clean["predicted"]
    changed = [i for i in range(1200) if run["actual"][i] != clean["actual"][i]]
    assert changed == run["flipped"]
    assert run["accuracy"] < clean["accuracy"]
    assert all(v["support"] == sum(cm[i]) for i, v in enumerate(run["per_class"].values()))
    assert run["logging"]["state"] == "disabled"

    listing = client.get("/api/runs", params={"model_id": mid}).json()
    assert listing["total"] >= 2
    first = listing["items"][0]
    assert first["run_id"] == run["run_id"]  # newest first
    assert "actual" not in first and "flipped" not in first
    assert client.get(f"/api/runs/{run['run_id']}").json()["accuracy"] == run["accuracy"]
    assert client.get("/api/runs", params={"model_id": 12345}).json() == {"items": [], "total": 0}


def test_tests_with_classes_the_model_does_not_know(
    client: TestClient, trained: dict[str, Any]
) -> None:
    text = bundled.sample_csv(2).replace("setosa", "rosa")
    ds = client.post("/api/datasets", data={"csv": text}).json()
    err = assert_error(
        client.post(f"/api/models/{trained['id']}/tests", json={"dataset_id": ds["id"]}),
        422,
        "unknown_classes",
    )
    assert err["details"]["unknown"] == ["rosa"]


def test_course_train_and_retrain_then_delete(client: TestClient) -> None:
    ds = int(client.post("/iris/datasets", data={"train": bundled.sample_csv(20, seed=1)}).text)
    r = client.post("/iris/model", data={"dataset": str(ds)})
    assert r.status_code == 200, r.text
    mid = int(r.text)
    model = client.get(f"/api/models/{mid}").json()
    assert model["status"] == "ready" and model["version"] == 1

    gate = threading.Event()
    client.app.state.services.training._executor.submit(gate.wait, 120)  # hold the worker
    try:
        r = client.post(f"/api/models/{mid}/train", json={"dataset_id": ds, "epochs": 3})
        assert r.status_code == 202 and r.json()["params"]["epochs"] == 3
        assert r.json()["status"] == "queued"
        again = client.post(f"/api/models/{mid}/train", json={"dataset_id": ds})
        assert_error(again, 409, "model_busy")
    finally:
        gate.set()
    model = model_api_kit.wait_for_model(client, mid)
    assert model["status"] == "ready" and model["version"] == 2
    assert len(model["history"]["loss"]) == 3

    history = client.put(f"/iris/model/{mid}", params={"dataset": ds}).json()
    assert len(history["loss"]) == 3 and len(history["accuracy"]) == 3
    assert client.get(f"/api/models/{mid}").json()["version"] == 3

    assert client.delete(f"/api/models/{mid}").status_code == 204
    assert_error(client.get(f"/api/models/{mid}"), 404)


def test_dataset_in_training_cannot_be_deleted(client: TestClient) -> None:
    ds = client.post("/api/datasets", data={"csv": bundled.sample_csv(20, seed=2)}).json()
    gate = threading.Event()
    # Hold the single training worker so the new job stays queued while we try the delete.
    client.app.state.services.training._executor.submit(gate.wait, 120)
    try:
        model = client.post("/api/models", json={"dataset_id": ds["id"], "epochs": 2}).json()
        assert client.get(f"/api/models/{model['id']}").json()["status"] == "queued"
        assert_error(client.delete(f"/api/datasets/{ds['id']}"), 409, "dataset_in_use")
    finally:
        gate.set()
    assert model_api_kit.wait_for_model(client, model["id"])["status"] == "ready"
    assert client.delete(f"/api/datasets/{ds['id']}").status_code == 204


def test_everything_survives_a_restart(
    client: TestClient, trained: dict[str, Any], data_dir: Path
) -> None:
    mid = trained["id"]
    score = client.post(f"/api/models/{mid}/score", json={"values": FIRST_ROW}).json()
    runs = client.get("/api/runs").json()
    datasets = client.get("/api/datasets").json()
    with TestClient(create_app(settings_for(data_dir))) as again:
        assert again.get("/api/datasets").json() == datasets
        assert again.get(f"/api/models/{mid}").json() == client.get(f"/api/models/{mid}").json()
        assert again.post(f"/api/models/{mid}/score", json={"values": FIRST_ROW}).json() == score
        assert again.get("/api/runs").json() == runs
        new = again.post("/api/datasets", data={"csv": bundled.sample_csv(1)}).json()
        assert new["id"] > max(d["id"] for d in datasets)  # ids are never reused


def test_an_unexpected_error_is_a_500_in_the_error_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings_for(tmp_path))

    def broken() -> list[Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.state.services.datasets, "list", broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        err = assert_error(c.get("/api/datasets"), 500, "internal_error")
        assert "disk on fire" not in err["message"]  # internals stay in the log


def test_a_warm_score_reads_nothing_from_the_registry_and_changes_apply_at_once(
    client: TestClient,
) -> None:
    """The single-score path keeps the model and its promotion a moment; this replica's own
    training, promotion and delete still reach it at once."""
    r = client.post("/api/models", json={"dataset_id": 0, "epochs": 2, "seed": 3})
    mid = model_api_kit.wait_for_model(client, r.json()["id"])["id"]
    reads: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        reads.append(params["Key"]["pk"]["S"])

    events = client.app.state.services.registry.client.meta.events
    events.register("provide-client-params.dynamodb.GetItem", count)
    try:
        score = lambda: client.post(f"/api/models/{mid}/score", json={"values": FIRST_ROW})  # noqa: E731
        assert score().json()["version"] == 1
        cold = len(reads)
        assert {"model", "promotion"} <= set(reads)
        assert [score().json()["version"] for _ in range(5)] == [1] * 5
        assert len(reads) == cold  # warm: no registry read

        again = client.post(f"/api/models/{mid}/train", json={"dataset_id": 0, "epochs": 2})
        assert again.status_code == 202, again.text
        assert model_api_kit.wait_for_model(client, mid)["version"] == 2
        assert score().json()["version"] == 2  # the new promotion, not the cached one

        back = {"version": 1, "force": True, "reviewer": "t"}
        assert client.post(f"/api/models/{mid}/promote", json=back).status_code == 200
        assert score().json()["version"] == 1
        assert client.delete(f"/api/models/{mid}").status_code == 204
        assert_error(score(), 404)
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", count)
