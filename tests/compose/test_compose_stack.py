"""`docker compose up`, exercised as a user would, through the published ports.

The images are built from the real Dockerfile, the stack is the real docker-compose.yml with
docker/compose.no-lambda.yml (the stream runner instead of the Lambda, which LocalStack cannot run
on this machine). Upload a data set with flipped labels, train, batch-test: every row must be in
LocalStack's score table and exactly the problem rows in its retrain table; the dashboard answers;
provisioning again changes nothing; the data volume survives `down` and `up`.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import boto3
import httpx
import pytest

from tests.support.loop_kit import expected_flagged, relabelled_csv, train_model
from tests.support.waits import wait_for

pytestmark = [pytest.mark.compose]

NETWORK = "iris-monitor"


def _table(stack, name: str):
    return boto3.resource(
        "dynamodb",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).Table(name)


def _keys(table, run_id: str) -> list[str]:
    keys: list[str] = []
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "partition_key = :p",
        "ExpressionAttributeValues": {":p": run_id},
    }
    while True:
        page = table.query(**kwargs)
        keys += [item["sort_key"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return keys
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_every_service_is_healthy_and_localstack_is_gated_on_init_hooks(stack) -> None:
    ps = stack.run("ps", "--format", "json").stdout
    rows = [json.loads(line) for line in ps.splitlines() if line.strip()]
    if len(rows) == 1 and isinstance(rows[0], list):
        rows = rows[0]
    state = {row["Service"]: (row["State"], row.get("Health", "")) for row in rows}
    for service in ("localstack", "model_api", "ui"):
        assert state[service] == ("running", "healthy"), state
    assert state["stream-runner"][0] == "running", state
    ready = httpx.get(f"{stack.aws_url}/_localstack/init/ready", timeout=5).json()
    assert ready["completed"] is True
    env = stack.run("exec", "-T", "localstack", "printenv", "LAMBDA_DOCKER_NETWORK").stdout
    assert env.strip() == NETWORK
    docker = stack.compose[0]
    inspect = subprocess.run(
        [docker, "network", "inspect", NETWORK], capture_output=True, text=True, check=True
    )
    attached = {c["Name"] for c in json.loads(inspect.stdout)[0]["Containers"].values()}
    assert any("localstack" in name for name in attached), attached


def test_the_monitoring_loop_through_the_published_ports(stack) -> None:
    with httpx.Client(base_url=stack.api_url, timeout=30) as api:
        text, changed = relabelled_csv(0.05, seed=23)
        upload = api.post("/api/datasets", files={"file": ("flipped.csv", text, "text/csv")})
        assert upload.status_code == 201, upload.text
        model_id = train_model(api, 0)
        response = api.post(
            f"/api/models/{model_id}/tests", json={"dataset_id": upload.json()["id"]}
        )
        assert response.status_code == 201, response.text
        run = response.json()
    expected = expected_flagged(run)
    assert {str(i).zfill(6) for i in changed} <= expected
    score, retrain = _table(stack, "IrisExtended"), _table(stack, "IrisExtendedRetrain")
    wait_for(lambda: len(_keys(score, run["run_id"])) == run["rows"], 180, "every score item")
    wait_for(lambda: len(_keys(retrain, run["run_id"])) >= len(expected), 180, "flagged items")
    time.sleep(3)  # anything extra or duplicated would arrive now
    keys = _keys(retrain, run["run_id"])
    assert len(keys) == len(set(keys))
    assert set(keys) == expected
    page = httpx.get(stack.ui_url, timeout=10)
    assert page.status_code == 200 and "_dash-config" in page.text
    layout = httpx.get(f"{stack.ui_url}/_dash-layout", timeout=10)
    assert layout.status_code == 200


def test_provisioning_again_changes_nothing(stack) -> None:
    out = stack.run("run", "--rm", "-T", "provision", "up", "--wait", "30", "--json").stdout
    report = json.loads(out[out.index("{") :])
    assert report["changed"] is False, report
    registry = _table(stack, "IrisRegistry")
    assert {k["AttributeName"] for k in registry.key_schema} == {"pk", "sk"}


def test_a_new_model_api_container_serves_the_same_models(stack) -> None:
    """model_api keeps its state in the registry table and the object store (the `iris-data`
    volume here), not in its container: with the container removed and a new one started, the
    same models are served. (`down` + `up` also restarts LocalStack, whose Community edition keeps
    no state across a restart, so the registry starts empty: README, Limits.)"""
    before = httpx.get(f"{stack.api_url}/api/models", timeout=10).json()
    assert _models(before), "no model to survive"
    stack.run("rm", "--stop", "--force", "model_api")
    stack.run("up", "--no-build", "--wait", "--wait-timeout", "600")
    after = httpx.get(f"{stack.api_url}/api/models", timeout=10).json()
    assert [m["id"] for m in _models(after)] == [m["id"] for m in _models(before)]


def _models(body: Any) -> list[dict[str, Any]]:
    return body["items"] if isinstance(body, dict) else body
