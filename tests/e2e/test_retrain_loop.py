"""The monitoring loop end to end on the embedded stack (issue 4's acceptance test).

Upload the bundled data set with some species labels deliberately changed (the course's tip),
train, batch-test: the score log writes every row to the score table, the stream runner invokes
the real handler, and the retrain table must end up holding exactly the rows with
Class != Actual or Probability < 0.9: none missing, none extra, no duplicates, also when the
runner is SIGKILLed mid-stream and restarted.
"""

from __future__ import annotations

import csv
import io
import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

BUNDLED = (
    Path(__file__).resolve().parents[2]
    / "services/model_api/src/model_api/data/iris_extended_encoded.csv"
)
THRESHOLD = 0.9
SPECIES = ("setosa", "versicolor", "virginica")


def relabelled_csv(share: float, seed: int) -> tuple[str, set[int]]:
    """The bundled CSV with ``share`` of its rows relabelled; also returns those rows."""
    rows = list(csv.reader(io.StringIO(BUNDLED.read_text())))
    header, body = rows[0], rows[1:]
    rng = random.Random(seed)
    changed = set(rng.sample(range(len(body)), int(len(body) * share)))
    for i in changed:
        body[i][0] = rng.choice([s for s in SPECIES if s != body[i][0]])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue(), changed


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def train_model(api: httpx.Client, dataset_id: int) -> int:
    model = api.post("/api/models", json={"dataset_id": dataset_id, "seed": 7}).json()
    done = wait_for(
        lambda: (
            (m := api.get(f"/api/models/{model['id']}").json())["status"] in ("ready", "failed")
            and m
        ),
        180,
        "training",
    )
    assert done["status"] == "ready", done
    return int(model["id"])


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


def expected_flagged(run: dict[str, Any]) -> set[str]:
    width = 6
    return {
        str(i).zfill(width)
        for i, (actual, predicted, p) in enumerate(
            zip(run["actual"], run["predicted"], run["probability"], strict=True)
        )
        if actual != predicted or p < THRESHOLD
    }


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
