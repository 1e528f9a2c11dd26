"""``/metrics`` during a batch test: the figures move as the run is scored and logged.

Real DynamoDB endpoint (the score log writes for real); values read through Prometheus' parser.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from prometheus_client.parser import text_string_to_metric_families

from tests.support import model_api_kit

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _metrics(client: TestClient) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def api(aws_env: Any, provisioned_tables: dict[str, str], tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(model_api_kit.settings_on(provisioned_tables, tmp_path))) as client:
        yield client


def test_metrics_follow_a_batch_test(api: TestClient) -> None:
    before = _metrics(api)
    assert before[("iris_scorelog_records_submitted_total", ())] == 0
    r = api.post("/api/models", json={"dataset_id": 0, "epochs": 3, "seed": 3})
    assert r.status_code == 202, r.text
    model_id = r.json()["id"]
    model_api_kit.wait_for_model(api, model_id)
    r = api.post(f"/api/models/{model_id}/tests", json={"dataset_id": 0})
    assert r.status_code == 201, r.text
    rows = r.json()["logging"]["total"]
    assert rows == 1200
    r = api.post(f"/api/models/{model_id}/score", json={"values": [1.0] * 20})
    assert r.status_code == 200, r.text

    during = _metrics(api)
    assert (
        during[("iris_batch_tests_total", ())] - before.get(("iris_batch_tests_total", ()), 0) == 1
    )
    assert during[("iris_scorelog_records_submitted_total", ())] == rows
    assert during[("iris_training_jobs", (("state", "ready"),))] == 1
    assert during[("iris_scores_total", ())] - before.get(("iris_scores_total", ()), 0) == 1
    route = "/api/models/{model_id}/tests"
    key = (
        "iris_http_request_duration_seconds_count",
        (("method", "POST"), ("route", route), ("status", "201")),
    )
    assert during[key] >= 1

    deadline = time.monotonic() + 120
    while (after := _metrics(api))[("iris_scorelog_records_pending", ())] > 0:
        assert time.monotonic() < deadline, after
        time.sleep(0.3)
    assert after[("iris_scorelog_records_written_total", ())] == rows
    assert after[("iris_scorelog_records_failed_total", ())] == 0
    assert after[("iris_scorelog_oldest_pending_age_seconds", ())] == 0
