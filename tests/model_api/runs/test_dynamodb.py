"""model_api against a real DynamoDB API (DynamoDB Local from tests/conftest.py, or the
endpoint in AWS_ENDPOINT_URL): batch-test records land in the score table in the record
contract's format, and the read routes page through both tables."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings
from model_api.core.registry import Registry
from model_api.runs.flagged import FlaggedCounter

from tests.support import bundled, model_api_kit

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def api(aws_env: Any, provisioned_tables: dict[str, str], tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(model_api_kit.settings_on(provisioned_tables, tmp_path))) as client:
        yield client


def test_ready_checks_the_tables(api: TestClient, aws_env: Any, tmp_path: Path) -> None:
    r = api.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {
        "storage": "ok",
        "object_store": "ok",
        "registry_table": "ok",
        "score_table": "ok",
        "retrain_table": "ok",
    }
    settings = ApiSettings(data_dir=tmp_path / "other", score_table="NoSuchTable-x1")
    with TestClient(create_app(settings)) as other:
        r = other.get("/health/ready")
        assert r.status_code == 503
        assert r.json()["status"] == "not_ready"
        assert r.json()["checks"]["score_table"].startswith("error")
        r = other.get("/api/retrain", params={"run_id": "r"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "table_not_found"


def test_ready_says_when_the_registry_table_is_gone(api: TestClient) -> None:
    # the registry table disappears after the start (deleted, another account): not ready,
    # naming the table and DynamoDB's reason; the other checks still answer
    services = api.app.state.services
    kept = services.registry
    services.registry = Registry(kept.client, "NoSuchRegistry-x1")
    try:
        r = api.get("/health/ready")
    finally:
        services.registry = kept
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["registry_table"] == (
        "error: ResourceNotFoundException (NoSuchRegistry-x1)"
    )
    assert body["checks"]["score_table"] == "ok"
    assert api.get("/health/ready").status_code == 200


def test_batch_test_records_reach_the_score_table(api: TestClient) -> None:
    ds = api.post("/api/datasets", data={"csv": bundled.sample_csv(30, seed=4)}).json()
    model = api.post("/api/models", json={"dataset_id": ds["id"], "epochs": 5, "seed": 2}).json()
    model = model_api_kit.wait_for_model(api, model["id"])
    assert model["status"] == "ready", model["error"]

    body = {"dataset_id": ds["id"], "flip_fraction": 0.2, "seed": 9}
    r = api.post(f"/api/models/{model['id']}/tests", json=body)
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["logging"]["total"] == 90
    logging = model_api_kit.wait_logged(api, run["run_id"])
    assert logging == {"total": 90, "written": 90, "pending": 0, "failed": 0, "state": "complete"}

    records = model_api_kit.all_pages(api, f"/api/runs/{run['run_id']}/records", {"limit": 40})
    assert [r["sort_key"] for r in records] == [f"{i:06d}" for i in range(90)]
    rows = api.get(f"/api/datasets/{ds['id']}/rows", params={"limit": 90}).json()["rows"]
    for i, rec in enumerate(records):
        assert rec["partition_key"] == run["run_id"]
        features = ast.literal_eval(rec["Features"])  # the course's str(dict) format
        assert features == {**rows[i], "species": run["actual"][i]}
        assert next(iter(features)) == "species"
        assert rec["Actual"] == run["actual"][i] and rec["Class"] == run["predicted"][i]
        assert float(rec["Probability"]) == pytest.approx(run["probability"][i])
        assert rec["model_id"] == model["id"] and rec["dataset_id"] == ds["id"]
        probs = rec["class_probabilities"]
        assert max(probs, key=probs.get) == rec["Class"]
    assert {i for i, r in enumerate(records) if r["Actual"] != rows[i]["species"]} == set(
        run["flipped"]
    )
    unknown = api.get("/api/runs/nope/records")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "run_not_found"
    assert api.get("/api/runs/nope").status_code == 404
    bad = api.get(f"/api/runs/{run['run_id']}/records", params={"cursor": "garbage!"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_retrain_candidates_are_read_by_run_and_by_model(
    api: TestClient, aws_env: Any, table_names: dict[str, str]
) -> None:
    """Items written as the flagger writes them (its own tests cover the flagging)."""
    ddb = boto3.client("dynamodb", **aws_env.client_kwargs())
    for run_id, model_id, n in (
        ("20261125T000000000Z-aaaa", 1, 7),
        ("20261125T000001000Z-bbbb", 2, 5),
    ):
        for i in range(n):
            ddb.put_item(
                TableName=table_names["retrain"],
                Item={
                    "partition_key": {"S": run_id},
                    "sort_key": {"S": f"{i:06d}"},
                    "Features": {"S": "{'species': 'setosa', 'elevation': 1.0}"},
                    "Class": {"S": "versicolor"},
                    "Actual": {"S": "setosa"},
                    "Probability": {"S": "0.6"},
                    # Old items hold the id as N, new ones as S: both are read.
                    "model_id": {"N" if i % 2 else "S": str(model_id)},
                    "reasons": {"SS": ["misclassified", "low_confidence"]},
                    "flagged_at": {"S": "2026-11-25T00:00:02Z"},
                    "threshold": {"S": "0.9"},
                },
            )
    by_run = model_api_kit.all_pages(
        api, "/api/retrain", {"run_id": "20261125T000000000Z-aaaa", "limit": 3}
    )
    assert [r["sort_key"] for r in by_run] == [f"{i:06d}" for i in range(7)]
    assert by_run[0]["reasons"] == ["low_confidence", "misclassified"]
    by_model = model_api_kit.all_pages(api, "/api/retrain", {"model_id": 2, "limit": 4})
    assert len(by_model) == 5 and {r["model_id"] for r in by_model} == {2}
    assert len(model_api_kit.all_pages(api, "/api/retrain", {"limit": 5})) == 12
    none = api.get("/api/retrain", params={"run_id": "20261125T000000000Z-aaaa", "model_id": 2})
    assert none.json()["items"] == []


def test_runs_keep_seed_and_flip_and_count_flagged_records(
    aws_env: Any, provisioned_tables: dict[str, str], tmp_path: Path
) -> None:
    """A run stores the seed it flipped with (drawn when none was sent), so a re-test with the
    run's ``seed`` and ``flip_fraction`` flips the same rows; ``flagged`` is counted from the
    retrain table and cached once the run is written and the count is stable."""
    settings = model_api_kit.settings_on(provisioned_tables, tmp_path, flagged_settle_seconds=10)
    ddb = boto3.client("dynamodb", **aws_env.client_kwargs())
    now = [0.0]
    app = create_app(settings)
    app.state.services.tests.flagged = FlaggedCounter(10, clock=lambda: now[0])
    with TestClient(app) as api:
        ds = api.post("/api/datasets", data={"csv": bundled.sample_csv(10, seed=3)}).json()
        model = api.post("/api/models", json={"dataset_id": ds["id"], "epochs": 2}).json()
        assert model_api_kit.wait_for_model(api, model["id"])["status"] == "ready"
        body = {"dataset_id": ds["id"], "flip_fraction": 0.3}
        first = api.post(f"/api/models/{model['id']}/tests", json=body).json()
        assert isinstance(first["seed"], int) and first["flip_fraction"] == 0.3
        assert len(first["flipped"]) == 9 and first["flagged"] is None
        again = api.post(
            f"/api/models/{model['id']}/tests",
            json={**body, "seed": first["seed"], "flip_fraction": first["flip_fraction"]},
        ).json()
        assert again["flipped"] == first["flipped"] and again["actual"] == first["actual"]
        other = api.post(f"/api/models/{model['id']}/tests", json=body).json()
        assert other["seed"] != first["seed"]  # drawn from 2**31 values

        run_id = first["run_id"]
        model_api_kit.wait_logged(api, run_id)
        summary = api.get(f"/api/runs/{run_id}").json()
        assert summary["seed"] == first["seed"] and summary["flip_fraction"] == 0.3
        assert summary["flagged"] == 0 and summary["flagged_share"] == 0.0

        def flag(position: int) -> None:
            ddb.put_item(
                TableName=provisioned_tables["retrain"],
                Item={"partition_key": {"S": run_id}, "sort_key": {"S": f"{position:06d}"}},
            )

        for i in range(3):
            flag(i)
        assert api.get(f"/api/runs/{run_id}").json()["flagged"] == 3  # changed: not final
        listed = api.get("/api/runs", params={"model_id": model["id"]}).json()["items"]
        mine = next(r for r in listed if r["run_id"] == run_id)
        assert mine["flagged"] == 3 and mine["flagged_share"] == pytest.approx(3 / 30)
        now[0] = 10.0  # unchanged for settle_seconds after the run was written: final
        assert api.get(f"/api/runs/{run_id}").json()["flagged"] == 3
        flag(29)
        assert len(model_api_kit.all_pages(api, "/api/retrain", {"run_id": run_id})) == 4
        assert api.get(f"/api/runs/{run_id}").json()["flagged"] == 3  # cached, not re-queried
