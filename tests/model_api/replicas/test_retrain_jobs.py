"""Retraining-flow jobs are shared, claimed, not owned: a job planned on one replica is listed
and read on the other, and when the replica running it is SIGKILLed mid-training the other
claims it (once its lease expires) and completes it with the real flow handler; the job is
never left ``failed`` by the kill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support import model_api_kit, retrain_kit
from tests.support.replicas import kill_and_follow
from tests.support.waits import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_retrain_job_is_seen_everywhere_and_survives_its_replica(
    spawn: Any, tmp_path: Path, aws_endpoint: Any, provisioned_tables: dict[str, str]
) -> None:
    a = spawn("a", tmp_path / "a", IRIS_REPLICA_ID="replica-a")
    b = spawn("b", tmp_path / "b", IRIS_REPLICA_ID="replica-b")
    a.wait_ready()
    b.wait_ready()
    by_id = {"replica-a": a, "replica-b": b}
    with a.client() as api_a, b.client() as api_b:
        model = api_a.post("/api/models", json={"dataset_id": 0, "epochs": 5, "seed": 7}).json()
        model = model_api_kit.wait_for_model(api_a, model["id"])
        assert model["status"] == "ready", model
        mid = model["id"]
        run = api_a.post(
            f"/api/models/{mid}/tests", json={"dataset_id": 0, "flip_fraction": 0.1, "seed": 5}
        ).json()
        model_api_kit.wait_logged(api_a, run["run_id"])
        ddb = boto3.client("dynamodb", **aws_endpoint.client_kwargs())
        retrain_kit.flag_run(
            ddb, provisioned_tables["score"], provisioned_tables["retrain"], run["run_id"]
        )
        r = api_a.post(
            "/api/retrain/reviews",
            json={"run_id": run["run_id"], "accept_suggestions": "label_error", "reviewer": "ana"},
        )
        assert r.status_code == 200 and r.json()["count"] > 0, r.text

        r = api_a.post(
            f"/api/models/{mid}/versions",
            json={"run_ids": [run["run_id"]], "weight": 2, "epochs": 60},
        )
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        # B sees the job A planned, in its listing and by id
        assert job_id in [j["job_id"] for j in api_b.get("/api/jobs").json()]
        assert api_b.get(f"/api/jobs/{job_id}").json()["model_id"] == mid
        # and refuses a second retraining of the model while it is active
        again = api_b.post(f"/api/models/{mid}/versions", json={"run_ids": [run["run_id"]]})
        assert again.status_code == 409, again.text
        assert again.json()["error"]["details"]["job_id"] == job_id

        def training() -> dict[str, Any] | None:
            job = api_b.get(f"/api/jobs/{job_id}").json()
            assert job["status"] in ("queued", "running"), job
            return job if job["progress"].get("epoch", 0) >= 2 else None

        holder = wait_for(training, 180, "the retraining to get going")["replica"]
    victim = by_id.pop(holder)
    (survivor,) = by_id.values()
    # mid-training: no lease released, no job written
    survivor, job, seen = kill_and_follow(victim, survivor, f"/api/jobs/{job_id}", "succeeded", 300)
    assert job["status"] == "succeeded", job
    assert "failed" not in seen
    with survivor.client() as api:
        assert job["attempts"] == 2 and job["replica"] != holder
        events = [e["event"] for e in job["events"]]
        assert "re-queued after a restart (running)" in events
        assert events[-1] == "succeeded"
        version = job["result"]["version"]
        assert version == 2
        listing = api.get(f"/api/models/{mid}/versions").json()
        # one new version (not two), made by this job, not promoted
        assert [v["version"] for v in listing["versions"]] == [1, 2], listing
        assert listing["versions"][1]["job_id"] == job_id
        assert listing["promoted_version"] == 1
