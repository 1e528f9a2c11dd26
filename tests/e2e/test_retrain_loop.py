"""The monitoring loop end to end on the embedded stack (issue 4's acceptance test).

Upload the bundled data set with some species labels deliberately changed (the course's tip),
train, batch-test: the score log writes every row to the score table, the stream runner invokes
the real handler, and the retrain table must end up holding exactly the rows with
Class != Actual or Probability < 0.9: none missing, none extra, no duplicates, also when the
runner is SIGKILLed mid-stream and restarted.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.support.loop_kit import expected_flagged, relabelled_csv, train_model, wait_for


def retrain_keys(api: httpx.Client, run_id: str) -> list[str]:
    """Every retrain item of the run, following the cursor through all pages."""
    keys: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"run_id": run_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/retrain", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        keys += [item["sort_key"] for item in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            return keys


def run_test(api: httpx.Client, stack, share: float, kill_mid_stream: bool) -> None:
    text, changed = relabelled_csv(share, seed=11)
    upload = api.post("/api/datasets", files={"file": ("relabelled.csv", text, "text/csv")})
    assert upload.status_code == 201, upload.text
    # Train on the clean bundled data (dataset 0), test on the relabelled copy.
    model_id = train_model(api, 0)
    if not kill_mid_stream:
        stack.start_runner()
    response = api.post(f"/api/models/{model_id}/tests", json={"dataset_id": upload.json()["id"]})
    assert response.status_code == 201, response.text
    run = response.json()
    expected = expected_flagged(run)
    # Every changed label is a misclassification for a good model, so all of them are flagged.
    assert {str(i).zfill(6) for i in changed} <= expected
    assert len(expected) < run["rows"]

    wait_for(
        lambda: api.get(f"/api/runs/{run['run_id']}").json()["logging"]["written"] == run["rows"],
        120,
        "the score log to write every row",
    )
    if kill_mid_stream:
        stack.start_runner()
        wait_for(
            lambda: len(retrain_keys(api, run["run_id"])) > 0, 60, "the first copy", interval=0.05
        )
        stack.kill_runner()
        copied_before_kill = len(set(retrain_keys(api, run["run_id"])))
        assert 0 < copied_before_kill < len(expected), "the kill did not land mid-stream"
        stack.start_runner()

    wait_for(
        lambda: len(retrain_keys(api, run["run_id"])) >= len(expected),
        120,
        f"{len(expected)} flagged records",
    )
    time.sleep(2)  # anything extra or duplicated would arrive now
    keys = retrain_keys(api, run["run_id"])
    assert len(keys) == len(set(keys)), "duplicates in the retrain table"
    assert set(keys) == expected

    records = api.get(f"/api/runs/{run['run_id']}/records", params={"limit": 5}).json()
    assert [r["sort_key"] for r in records["items"]] == [
        "000000",
        "000001",
        "000002",
        "000003",
        "000004",
    ]


@pytest.mark.integration
@pytest.mark.slow
def test_relabelled_rows_reach_the_retrain_table_exactly(embedded_stack) -> None:
    with httpx.Client(base_url=embedded_stack.api_url, timeout=30) as api:
        run_test(api, embedded_stack, share=0.03, kill_mid_stream=False)


@pytest.mark.integration
@pytest.mark.slow
def test_runner_killed_mid_stream_loses_and_duplicates_nothing(embedded_stack) -> None:
    with httpx.Client(base_url=embedded_stack.api_url, timeout=30) as api:
        run_test(api, embedded_stack, share=0.5, kill_mid_stream=True)
