"""A reviewed candidate keeps its review when the stream redelivers its record or the score record
is modified (DynamoDB Local, the real flagger handler, model_api's review route).

The stream is at-least-once: the event source mapping (or AWS) retries whole batches, and the
score log's writer may put a record again. Each time, the flagger rewrites the candidate; the
review and its history, which model_api stores on the same item, must survive, and the copied
attributes must be the score item's, byte for byte (docs/contract.md, retrain table item).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flagger.config import FlaggerConfig
from flagger.handler import Flagger

from tests.support import model_api_kit, retrain_kit
from tests.support.scorelog_kit import score_item
from tests.support.stream_kit import stream_record

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# What a score item holds, as model_api's own builder writes it (docs/contract.md)
SCORE_ATTRIBUTES = set(score_item("run", 0, "setosa", "setosa", "0.95"))
FLAGGER_ATTRIBUTES = {"reasons", "flagged_at", "threshold"}
REVIEW_ATTRIBUTES = {"review", "review_history"}


@pytest.fixture
def flagged(
    aws_env: Any, provisioned_tables: dict[str, str], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    with retrain_kit.api_on_tables(aws_env, provisioned_tables, tmp_path) as (api, ddb):
        model = model_api_kit.wait_for_model(
            api, api.post("/api/models", json={"dataset_id": 0, "seed": 7}).json()["id"]
        )
        assert model["status"] == "ready", model["error"]
        run = api.post(
            f"/api/models/{model['id']}/tests",
            json={"dataset_id": 0, "flip_fraction": 0.1, "seed": 11},
        ).json()
        model_api_kit.wait_logged(api, run["run_id"])
        retrain_kit.flag_run(
            ddb, provisioned_tables["score"], provisioned_tables["retrain"], run["run_id"]
        )
        yield {"api": api, "ddb": ddb, "run": run, "tables": provisioned_tables}


def raw(ddb: Any, table: str, key: dict[str, Any]) -> dict[str, Any]:
    return ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]


def test_review_and_history_survive_redelivery_and_a_modify(flagged: dict[str, Any]) -> None:
    api, ddb, run, tables = flagged["api"], flagged["ddb"], flagged["run"], flagged["tables"]
    candidates = retrain_kit.all_candidates(api, run_id=run["run_id"])
    target = next(c for c in candidates if c["suspected_cause"] == "label_error")
    key = {"partition_key": {"S": target["partition_key"]}, "sort_key": {"S": target["sort_key"]}}
    listed = {"partition_key": target["partition_key"], "sort_key": target["sort_key"]}
    for decision, reviewer in (("relabel", "ana"), ("keep", "ben")):
        r = api.post(
            "/api/retrain/reviews",
            json={"reviews": [{**listed, "decision": decision}], "reviewer": reviewer},
        )
        assert r.status_code == 200, r.text
    reviewed = raw(ddb, tables["retrain"], key)
    assert reviewed["review"]["M"]["decision"] == {"S": "keep"}
    assert len(reviewed["review_history"]["L"]) == 2

    # 1. The whole run's batches delivered again (a retried batch, at-least-once).
    retrain_kit.flag_run(ddb, tables["score"], tables["retrain"], run["run_id"])
    assert raw(ddb, tables["retrain"], key) == reviewed

    # 2. The score record is modified (a lower probability), and the MODIFY flows through.
    ddb.update_item(
        TableName=tables["score"],
        Key=key,
        UpdateExpression="SET Probability = :p",
        ExpressionAttributeValues={":p": {"S": "0.51"}},
    )
    image = raw(ddb, tables["score"], key)
    flagger = Flagger(FlaggerConfig(retrain_table=tables["retrain"], threshold=0.9), ddb)
    modify = stream_record(image, 10**9, "MODIFY")
    assert flagger.handle({"Records": [modify]}, None) == {"batchItemFailures": []}
    after = raw(ddb, tables["retrain"], key)
    assert set(after) == SCORE_ATTRIBUTES | FLAGGER_ATTRIBUTES | REVIEW_ATTRIBUTES
    assert {name: after[name] for name in SCORE_ATTRIBUTES} == image  # byte for byte
    assert all(set(value) == {"S"} for value in image.values())  # the contract: every one S
    assert "low_confidence" in [r["S"] for r in after["reasons"]["L"]]
    assert after["flagged_at"] == reviewed["flagged_at"] and after["threshold"] == {"S": "0.9"}
    assert after["review"] == reviewed["review"]
    assert after["review_history"] == reviewed["review_history"]

    # 3. The same MODIFY redelivered changes nothing; the API still shows both reviews.
    assert flagger.handle({"Records": [modify]}, None) == {"batchItemFailures": []}
    assert raw(ddb, tables["retrain"], key) == after
    shown = {
        (c["partition_key"], c["sort_key"]): c
        for c in retrain_kit.all_candidates(api, run_id=run["run_id"], reviewed="true")
    }[(target["partition_key"], target["sort_key"])]
    assert shown["review"]["decision"] == "keep" and shown["review"]["reviewer"] == "ben"
    assert [h["reviewer"] for h in shown["review_history"]] == ["ana", "ben"]
    assert shown["Probability"] == "0.51"
