"""Retraining from reviewed candidates makes a new version with lineage; versions are compared
fairly and promoted (against a real DynamoDB API, the real flagger handler, real TensorFlow).

The model trains on 80 % of the bundled rows (A); the held-out 20 % (H) is the fair comparison
set. The run re-tests A with 10 % of its labels flipped; the flagged rows are reviewed by
accepting the label-error suggestions, then retrained on. Accuracies are recomputed here from
the score route, not taken from the comparison's own numbers.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from model_api.schema.features import FEATURE_NAMES

from tests.support import bundled, model_api_kit, retrain_kit

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def split_bundled(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = bundled.bundled_frame()
    hold = df.groupby("species", group_keys=False).sample(frac=0.2, random_state=seed)
    return df.drop(hold.index).reset_index(drop=True), hold.reset_index(drop=True)


def wait_job(api: TestClient, job_id: str, deadline_s: float = 300) -> dict[str, Any]:
    end = time.monotonic() + deadline_s
    while True:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < end, job
        time.sleep(0.2)


def course_answer(name: str) -> str:
    """The course route's text for a class name (its index among the sorted classes)."""
    return f"Score done, class={sorted(['setosa', 'versicolor', 'virginica']).index(name)}"


def accuracy_by_scoring(api: TestClient, model_id: int, version: int, df: pd.DataFrame) -> float:
    right = 0
    for row in df.to_dict(orient="records"):
        body = {"features": {n: row[n] for n in FEATURE_NAMES}}
        r = api.post(f"/api/models/{model_id}/score", params={"version": version}, json=body)
        assert r.status_code == 200 and r.json()["version"] == version, r.text
        right += r.json()["class_name"] == row["species"]
    return right / len(df)


@pytest.fixture
def reviewed(
    aws_env: Any, provisioned_tables: dict[str, str], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    train, hold = split_bundled()
    with retrain_kit.api_on_tables(aws_env, provisioned_tables, tmp_path) as (api, ddb):
        a = api.post("/api/datasets", data={"csv": train.to_csv(index=False), "name": "A"}).json()
        h = api.post("/api/datasets", data={"csv": hold.to_csv(index=False), "name": "H"}).json()
        model = api.post("/api/models", json={"dataset_id": a["id"], "seed": 7}).json()
        model = model_api_kit.wait_for_model(api, model["id"])
        assert model["status"] == "ready" and model["promoted_version"] == 1
        run = api.post(
            f"/api/models/{model['id']}/tests",
            json={"dataset_id": a["id"], "flip_fraction": 0.1, "seed": 5},
        ).json()
        assert run["model_version"] == 1
        model_api_kit.wait_logged(api, run["run_id"])
        retrain_kit.flag_run(
            ddb, provisioned_tables["score"], provisioned_tables["retrain"], run["run_id"]
        )
        r = api.post(
            "/api/retrain/reviews",
            json={"run_id": run["run_id"], "accept_suggestions": "label_error", "reviewer": "ana"},
        )
        assert r.status_code == 200 and r.json()["count"] > 0
        yield {
            "api": api,
            "model": model,
            "run": run,
            "A": a,
            "H": h,
            "hold": hold,
            "reviews": r.json()["reviewed"],
            "ddb": ddb,
            "retrain_table": provisioned_tables["retrain"],
        }


def test_retrain_compare_promote_and_roll_back(reviewed: dict[str, Any]) -> None:
    api, model, run = reviewed["api"], reviewed["model"], reviewed["run"]
    mid = model["id"]
    r = api.post(
        f"/api/models/{mid}/versions",
        json={"run_ids": [run["run_id"]], "base_dataset_id": reviewed["A"]["id"], "weight": 2},
    )
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["version"] == 2 and job["attempts"] == 1

    listing = api.get(f"/api/models/{mid}/versions").json()
    assert listing["promoted_version"] == 1  # a retrained version waits for promotion
    v1, v2 = listing["versions"]
    assert v1["source"] == "train" and v2["source"] == "retrain"
    assert v2["parent_version"] == 1 and v2["base_dataset_id"] == reviewed["A"]["id"]
    reviewed_keys = {(x["partition_key"], x["sort_key"]): x["review"] for x in reviewed["reviews"]}
    lineage = {(c["partition_key"], c["sort_key"]): c for c in v2["candidates"]}
    assert set(lineage) == set(reviewed_keys)
    for key, review in reviewed_keys.items():
        assert lineage[key]["decision"] == review["decision"] == "relabel"
        assert lineage[key]["label"] == review["label"]
    used = sum(c["decision"] != "exclude" for c in v2["candidates"])
    assert v2["training_rows"] == reviewed["A"]["rows"] + 2 * used
    assert len(v2["training_set_sha256"]) == 64 and v2["weight"] == 2
    assert v2["params"]["seed"] == 7 and v2["metrics"]["holdout_accuracy"] is not None

    # never on trained rows: A is refused, or emptied when excluding
    bad = api.post(
        f"/api/models/{mid}/compare", json={"versions": [1, 2], "dataset_id": reviewed["A"]["id"]}
    )
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "trained_rows"
    bad = api.post(
        f"/api/models/{mid}/compare",
        json={"versions": [1, 2], "dataset_id": reviewed["A"]["id"], "exclude_trained": True},
    )
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "no_fair_rows"

    cmp = api.post(
        f"/api/models/{mid}/compare", json={"versions": [1, 2], "dataset_id": reviewed["H"]["id"]}
    )
    assert cmp.status_code == 200, cmp.text
    body = cmp.json()
    acc1 = accuracy_by_scoring(api, mid, 1, reviewed["hold"])
    acc2 = accuracy_by_scoring(api, mid, 2, reviewed["hold"])
    assert body["rows"] == len(reviewed["hold"]) and body["excluded_rows"] == 0
    assert body["results"]["1"]["accuracy"] == pytest.approx(acc1)
    assert body["results"]["2"]["accuracy"] == pytest.approx(acc2)
    assert sum(map(sum, body["results"]["2"]["confusion_matrix"])) == len(reviewed["hold"])
    flagged = body["flagged"]
    assert flagged["records"] == used
    assert (
        flagged["b_right"] - flagged["a_right"]
        == flagged["fixed_count"] - flagged["newly_broken_count"]
    )
    assert flagged["b_right"] >= 0.9 * used  # v2 learnt the reviewed labels

    if acc2 >= acc1:
        r = api.post(f"/api/models/{mid}/promote", json={"version": 2})
        assert r.status_code == 200, r.text
        assert r.json()["promotions"][-1]["forced"] is False
    else:
        r = api.post(f"/api/models/{mid}/promote", json={"version": 2})
        assert r.status_code == 409 and r.json()["error"]["code"] == "worse_version"
        r = api.post(f"/api/models/{mid}/promote", json={"version": 2, "force": True})
        assert r.status_code == 200 and r.json()["promotions"][-1]["forced"] is True
    assert api.get(f"/api/models/{mid}").json()["promoted_version"] == 2

    # every default path now uses version 2, and version 1 still scores when named
    row = reviewed["hold"].iloc[0]
    fields = ",".join(str(row[n]) for n in FEATURE_NAMES)
    features = {"features": {n: float(row[n]) for n in FEATURE_NAMES}}
    by_v2 = api.post(f"/api/models/{mid}/score", params={"version": 2}, json=features).json()
    default = api.post(f"/api/models/{mid}/score", json=features).json()
    assert default["version"] == 2 and default["class_name"] == by_v2["class_name"]
    assert api.get(f"/iris/model/{mid}/score", params={"fields": fields}).text == course_answer(
        by_v2["class_name"]
    )
    test = api.post(f"/api/models/{mid}/tests", json={"dataset_id": reviewed["H"]["id"]}).json()
    assert test["model_version"] == 2 and test["accuracy"] == pytest.approx(acc2)
    old = api.post(
        f"/api/models/{mid}/tests", json={"dataset_id": reviewed["H"]["id"], "version": 1}
    )
    assert old.json()["model_version"] == 1 and old.json()["accuracy"] == pytest.approx(acc1)

    # roll back: promote the earlier version (refused if worse unless forced; forced recorded)
    r = api.post(f"/api/models/{mid}/promote", json={"version": 1})
    if acc1 < acc2:
        assert r.status_code == 409 and r.json()["error"]["code"] == "worse_version"
        r = api.post(
            f"/api/models/{mid}/promote", json={"version": 1, "force": True, "reviewer": "bo"}
        )
        assert r.json()["promotions"][-1]["forced"] is True
    assert r.status_code == 200, r.text
    assert r.json()["promoted_version"] == 1 and r.json()["promotions"][-1]["reviewer"] in (
        "bo",
        "anonymous",
    )
    by_v1 = api.post(f"/api/models/{mid}/score", params={"version": 1}, json=features).json()
    course = api.get(f"/iris/model/{mid}/score", params={"fields": fields}).text
    assert course == course_answer(by_v1["class_name"])


def test_bad_retrain_compare_and_promote_requests(reviewed: dict[str, Any]) -> None:
    api, model, run = reviewed["api"], reviewed["model"], reviewed["run"]
    mid = model["id"]
    fresh = api.post(f"/api/models/{mid}/tests", json={"dataset_id": reviewed["H"]["id"]}).json()
    cases = [
        ({"run_ids": [fresh["run_id"]]}, 409, "no_reviewed_candidates"),
        ({"run_ids": ["20990101T000000000Z-0000"]}, 404, "run_not_found"),
        ({"run_ids": []}, 422, "validation_error"),
        ({"run_ids": [run["run_id"]], "weight": 0}, 422, "validation_error"),
        ({"run_ids": [run["run_id"]], "base_dataset_id": 99}, 404, "dataset_not_found"),
    ]
    for body, status, code in cases:
        r = api.post(f"/api/models/{mid}/versions", json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    assert api.post("/api/models/99/versions", json={"run_ids": [run["run_id"]]}).status_code == 404

    # a reviewed candidate whose features float32 cannot hold (1e308; 1e309, which the item's
    # text reads back as inf) is refused up front, naming it and its cells; no job is queued
    ddb, table = reviewed["ddb"], reviewed["retrain_table"]
    used = next(c for c in reviewed["reviews"] if c["review"]["decision"] != "exclude")
    key = {"partition_key": {"S": used["partition_key"]}, "sort_key": {"S": used["sort_key"]}}
    original = ddb.get_item(TableName=table, Key=key)["Item"]["Features"]["S"]
    features = ast.literal_eval(original)
    features["elevation"], features["petal_width"] = 1e308, 0.5
    tampered = str(features).replace("'petal_width': 0.5", "'petal_width': 1e309")
    assert ast.literal_eval(tampered)["petal_width"] == float("inf")
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET Features = :f",
        ExpressionAttributeValues={":f": {"S": tampered}},
    )
    jobs_before = api.get("/api/jobs", params={"model_id": mid}).json()
    versions_before = api.get(f"/api/models/{mid}/versions").json()
    r = api.post(f"/api/models/{mid}/versions", json={"run_ids": [run["run_id"]]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_candidates", r.text
    assert "too large for float32" in r.json()["error"]["message"]
    where = {"partition_key": used["partition_key"], "sort_key": used["sort_key"]}
    assert r.json()["error"]["details"] == {
        "cells": [{**where, "column": "elevation"}, {**where, "column": "petal_width"}],
        "count": 2,
    }
    assert api.get("/api/jobs", params={"model_id": mid}).json() == jobs_before
    assert api.get(f"/api/models/{mid}/versions").json() == versions_before
    assert api.get(f"/api/models/{mid}").json()["status"] == "ready"
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET Features = :f",
        ExpressionAttributeValues={":f": {"S": original}},
    )

    # a second retraining of the same model while one runs is refused, saying which job runs
    first = api.post(
        f"/api/models/{mid}/versions", json={"run_ids": [run["run_id"]], "epochs": 200}
    )
    assert first.status_code == 202
    second = api.post(f"/api/models/{mid}/versions", json={"run_ids": [run["run_id"]]})
    assert second.status_code == 409 and second.json()["error"]["code"] == "retrain_running"
    assert second.json()["error"]["details"]["job_id"] == first.json()["job_id"]
    # ...and so is a plain training of it, JSON and course route alike, changing nothing
    before = api.get(f"/api/models/{mid}").json()
    plain = [
        api.post(f"/api/models/{mid}/train", json={"dataset_id": reviewed["A"]["id"]}),
        api.put(f"/iris/model/{mid}", params={"dataset": reviewed["A"]["id"]}),
    ]
    for r in plain:
        assert r.status_code == 409 and r.json()["error"]["code"] == "retrain_running", r.text
        assert r.json()["error"]["details"]["job_id"] == first.json()["job_id"]
    after = api.get(f"/api/models/{mid}").json()
    assert (after["status"], after["params"]) == (before["status"], before["params"])
    assert wait_job(api, first.json()["job_id"])["status"] == "succeeded"

    r = api.post(f"/api/models/{mid}/promote", json={"version": 9})
    assert r.status_code == 404 and r.json()["error"]["code"] == "version_not_found"
    r = api.post(f"/api/models/{mid}/promote", json={"version": 2})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_compared"
    assert api.get(f"/api/models/{mid}").json()["promoted_version"] == 1
    r = api.post(
        f"/api/models/{mid}/compare", json={"versions": [1, 1], "dataset_id": reviewed["H"]["id"]}
    )
    assert r.status_code == 422
    r = api.post(
        f"/api/models/{mid}/compare", json={"versions": [1, 7], "dataset_id": reviewed["H"]["id"]}
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "version_not_found"
    r = api.post(f"/api/models/{mid}/score", params={"version": 5}, json={"values": [0.0] * 20})
    assert r.status_code == 404
    assert api.get("/api/jobs/nope").status_code == 404
    # the old loop (a data set labelled with the candidates' Actual) is gone
    gone = api.post("/api/datasets/from-retrain", json={"run_id": run["run_id"]})
    assert gone.status_code in (404, 405) and "error" in gone.json()

    # the retraining is done: plain training is accepted again
    r = api.post(f"/api/models/{mid}/train", json={"dataset_id": reviewed["A"]["id"], "epochs": 2})
    assert r.status_code == 202, r.text
    assert model_api_kit.wait_for_model(api, mid)["status"] == "ready"
