"""Bounded work and full disks over HTTP: a clear 429 (with Retry-After) or 507 in the error
shape, and nothing half-created — no model without its queued job, no run without its records."""

from __future__ import annotations

import contextlib
import errno
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings

from tests.support import bundled, model_api_kit

pytestmark = pytest.mark.slow


assert_error = model_api_kit.assert_error


def train(client: TestClient, dataset_id: int) -> dict[str, Any]:
    r = client.post("/api/models", json={"dataset_id": dataset_id, "epochs": 1, "seed": 1})
    assert r.status_code == 202, r.text
    model = model_api_kit.wait_for_model(client, r.json()["id"])
    assert model["status"] == "ready", model["error"]
    return model


def run_ids(client: TestClient) -> list[str]:
    return [r["run_id"] for r in client.get("/api/runs").json()["items"]]


@contextlib.contextmanager
def undrained_client(data_dir: Path, name: str, **extra: Any) -> Iterator[TestClient]:
    """The app with a started score log on tables that do not exist: nothing drains, and it
    stops at once (no drain wait)."""
    settings = ApiSettings(
        data_dir=data_dir,
        score_table=f"NoSuchTable-{name}",
        retrain_table=f"NoSuchTable-{name}-retrain",
        scorelog_drain_seconds=0,
        max_epochs=50,
        **extra,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[TestClient]:
    with model_api_kit.offline_client(tmp_path, max_queued_training_jobs=2) as client:
        yield client


def test_the_training_queue_is_bounded(offline: TestClient) -> None:
    client = offline
    ds = client.post("/api/datasets", data={"csv": bundled.sample_csv(10, seed=2)}).json()["id"]
    ready = train(client, ds)
    gate = threading.Event()
    client.app.state.services.training._executor.submit(gate.wait, 120)  # hold the one worker
    try:
        queued = [client.post("/api/models", json={"dataset_id": ds, "epochs": 1}) for _ in "ab"]
        assert [r.status_code for r in queued] == [202, 202]
        before = client.get("/api/models").json()
        assert [m["status"] for m in before[-2:]] == ["queued", "queued"]

        over = [
            client.post("/api/models", json={"dataset_id": ds, "epochs": 1}),
            client.post(f"/api/models/{ready['id']}/train", json={"dataset_id": ds}),
            client.post("/iris/model", data={"dataset": str(ds)}),
        ]
        for r in over:
            err = assert_error(r, 429, "training_queue_full")
            assert r.headers["Retry-After"] == "30"
            assert err["details"] == {"queued": 2, "limit": 2}
        assert client.get("/api/models").json() == before  # nothing created, nothing queued
        for r in queued:  # deleted while queued: their jobs end without training
            assert client.delete(f"/api/models/{r.json()['id']}").status_code == 204
        r = client.post("/api/models", json={"dataset_id": ds, "epochs": 1})
        assert r.status_code == 202 and r.json()["id"] == queued[-1].json()["id"] + 1  # no id spent
        assert client.delete(f"/api/models/{r.json()['id']}").status_code == 204
    finally:
        gate.set()


@pytest.mark.integration
def test_waiting_retrain_flow_jobs_count_in_the_training_queue_bound(
    aws_env: Any, tmp_path: Path
) -> None:
    # the versions route needs a started score log
    with undrained_client(tmp_path, "flowbound", max_queued_training_jobs=2) as client:
        services = client.app.state.services
        ds = client.post("/api/datasets", data={"csv": bundled.sample_csv(10, seed=2)}).json()
        ready = train(client, ds["id"])
        mid = ready["id"]
        gate = threading.Event()
        services.training._executor.submit(gate.wait, 120)  # hold the one worker
        try:
            # Two retrain-flow jobs wait for the worker, as ``plan`` leaves them (their payload
            # is not a plan: once the worker is free they fail at once, training nothing).
            flow = services.flow
            waiting = [flow.jobs.create("retrain", mid, {"unplanned": True}) for _ in "ab"]
            for job in waiting:
                flow.runner.enqueue(job["job_id"])
            jobs = client.get("/api/jobs").json()
            versions = client.get(f"/api/models/{mid}/versions").json()
            models = client.get("/api/models").json()

            over = [
                client.post(f"/api/models/{mid}/versions", json={"run_ids": ["r-0"]}),
                client.post("/api/models", json={"dataset_id": ds["id"], "epochs": 1}),
                client.post(f"/api/models/{mid}/train", json={"dataset_id": ds["id"]}),
                client.post("/iris/model", data={"dataset": str(ds["id"])}),
                client.put(f"/iris/model/{mid}", params={"dataset": ds["id"]}),
            ]
            for r in over:
                err = assert_error(r, 429, "training_queue_full")
                assert r.headers["Retry-After"] == "30"
                assert err["details"] == {"queued": 2, "limit": 2}
            # nothing created: no job record, no version, no model, no queued training
            assert client.get("/api/jobs").json() == jobs
            assert client.get(f"/api/models/{mid}/versions").json() == versions
            assert client.get("/api/models").json() == models
        finally:
            gate.set()
        services.training._executor.submit(lambda: None).result()  # the waiting work has run
        assert [client.get(f"/api/jobs/{j['job_id']}").json()["status"] for j in waiting] == [
            "failed",
            "failed",
        ]
        r = client.post(f"/api/models/{mid}/versions", json={"run_ids": ["r-0"]})
        assert_error(r, 404, "run_not_found")  # past the bound again: the plan's own checks


def test_a_full_disk_elsewhere_is_a_507_in_the_error_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(ApiSettings(data_dir=tmp_path, scorelog_enabled=False))

    def no_space(*_: Any) -> dict[str, Any]:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(app.state.services.datasets, "create", no_space)
    with TestClient(app, raise_server_exceptions=False) as client:
        err = assert_error(
            client.post("/api/datasets", data={"csv": bundled.sample_csv(1)}),
            507,
            "insufficient_storage",
        )
        assert "disk is full" in err["message"]


@pytest.mark.integration
def test_pending_records_are_bounded_and_a_full_disk_creates_no_run(
    aws_env: Any, tmp_path: Path
) -> None:
    # the writer cannot drain: records stay pending
    with undrained_client(tmp_path, "bounds", scorelog_max_pending=100) as client:
        ds = client.post("/api/datasets", data={"csv": bundled.sample_csv(20, seed=6)}).json()
        model = train(client, ds["id"])
        tests = f"/api/models/{model['id']}/tests"
        first = client.post(tests, json={"dataset_id": ds["id"]})
        assert first.status_code == 201, first.text
        assert first.json()["logging"]["pending"] == 60
        runs = run_ids(client)

        for r in (
            client.post(tests, json={"dataset_id": ds["id"]}),
            client.get(f"/iris/model/{model['id']}/test", params={"dataset": ds["id"]}),
        ):
            err = assert_error(r, 429, "score_log_busy")
            assert int(r.headers["Retry-After"]) >= 1
            assert err["details"] == {"pending": 60, "incoming": 60, "limit": 100}
        assert run_ids(client) == runs  # no run without its records

        big = client.post("/api/datasets", data={"csv": bundled.sample_csv(34, seed=6)}).json()
        assert_error(client.post(tests, json={"dataset_id": big["id"]}), 422, "run_too_large")

        # A full disk: SQLite's own limit stops the outbox file from growing.
        scorelog = client.app.state.services.scorelog
        outbox = scorelog._outbox

        def cap() -> None:
            (pages,) = outbox._db.execute("PRAGMA page_count").fetchone()
            outbox._db.execute(f"PRAGMA max_page_count = {pages}")

        scorelog._executor.submit(cap).result()
        small = client.post("/api/datasets", data={"csv": bundled.sample_csv(5, seed=6)}).json()
        err = assert_error(
            client.post(tests, json={"dataset_id": small["id"]}), 507, "insufficient_storage"
        )
        assert "disk is full" in err["message"]
        assert run_ids(client) == runs
        assert outbox.pending_total() == 60
