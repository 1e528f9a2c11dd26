"""Two model_api processes (``uv run --frozen model-api``) with their own data directories but
the same AWS endpoint, registry table and object store behave as one service: what one is
told, the other answers at once (data sets, models, versions, promotion); scoring, which keeps
the model and its promotion a moment, within ``IRIS_SCORING_CACHE_SECONDS``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from model_api.config import ApiSettings
from model_api.datasets.store import bundled_csv

from tests.support.replicas import clean_env, start_replica
from tests.support.waits import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def replicas(
    aws_endpoint: Any, make_registry: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    registry = make_registry(aws_endpoint.url, aws_endpoint.region)
    shared = tmp_path_factory.mktemp("objects")
    env = (
        clean_env()
        | {
            "IRIS_REGISTRY_TABLE": registry.table,
            "IRIS_OBJECT_STORE": shared.as_uri(),
            "IRIS_SCORELOG_ENABLED": "false",
            "IRIS_MAX_EPOCHS": "3",
        }
        | aws_endpoint.child_env()
    )
    root = tmp_path_factory.mktemp("replicas")
    started = [
        start_replica(name, root / name, root / f"{name}.log", env)
        for name in ("replica_a", "replica_b")
    ]
    try:
        for replica in started:
            replica.wait_ready()
        clients = [replica.client() for replica in started]
        yield clients[0], clients[1]
        for client in clients:
            client.close()
    finally:
        for replica in started:
            replica.stop()
        registry.client.delete_table(TableName=registry.table)


def test_both_start_with_the_one_bundled_data_set(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = replicas
    assert [d["id"] for d in a.get("/api/datasets").json()][:1] == [0]
    assert a.get("/api/datasets/0").json() == b.get("/api/datasets/0").json()


def test_a_data_set_uploaded_on_one_is_listed_and_read_by_the_other(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = replicas
    first = a.post("/api/datasets", files={"file": ("one.csv", bundled_csv())})
    second = b.post("/api/datasets", files={"file": ("two.csv", bundled_csv())})
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    one, two = first.json()["id"], second.json()["id"]
    assert one != two and 0 not in (one, two)  # one counter for both replicas
    assert {one, two} <= {d["id"] for d in b.get("/api/datasets").json()}
    assert a.get("/api/datasets").json() == b.get("/api/datasets").json()
    rows = b.get(f"/api/datasets/{one}/rows", params={"limit": 3}).json()
    assert rows["total"] == first.json()["rows"] and len(rows["rows"]) == 3
    assert b.delete(f"/api/datasets/{one}").status_code == 204
    assert a.get(f"/api/datasets/{one}").status_code == 404
    assert a.get(f"/api/datasets/{one}/rows").status_code == 404  # its cached frame is not used


def wait_trained(client: httpx.Client, model_id: int, version: int) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        model = client.get(f"/api/models/{model_id}").json()
        if model["status"] == "failed":
            raise AssertionError(model)
        if model["status"] == "ready" and model["latest_version"] == version:
            return model
        time.sleep(0.3)
    raise AssertionError(f"model {model_id} version {version} not trained in time")


def test_versions_and_promotion_are_seen_by_both_at_once(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    a, b = replicas
    created = a.post("/api/models", json={"dataset_id": 0, "epochs": 2, "seed": 1})
    assert created.status_code == 202, created.text
    mid = created.json()["id"]
    assert wait_trained(b, mid, 1)["promoted_version"] == 1  # trained on a, seen on b
    again = b.post(f"/api/models/{mid}/train", json={"dataset_id": 0, "epochs": 2})
    assert again.status_code == 202, again.text
    assert wait_trained(a, mid, 2)["promoted_version"] == 2  # trained on b, seen on a
    assert (
        a.get(f"/api/models/{mid}/versions").json() == b.get(f"/api/models/{mid}/versions").json()
    )
    first_row = bundled_csv().decode().splitlines()[1].split(",")[1:]
    row = {"values": [float(v) for v in first_row]}
    assert a.post(f"/api/models/{mid}/score", json=row).json()["version"] == 2

    rollback = a.post(
        f"/api/models/{mid}/promote", json={"version": 1, "force": True, "reviewer": "t"}
    )
    assert rollback.status_code == 200, rollback.text
    listing = b.get(f"/api/models/{mid}/versions").json()
    assert listing["promoted_version"] == 1 and listing["promotions"][-1]["forced"] is True
    assert b.post(f"/api/models/{mid}/score", json=row).json()["version"] == 1
    assert b.delete(f"/api/models/{mid}").status_code == 204
    assert a.get(f"/api/models/{mid}").status_code == 404
    assert a.post(f"/api/models/{mid}/score", json=row).status_code == 404


def test_another_replicas_promotion_and_delete_reach_scoring_within_the_cache_window(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    """A warm score reads no registry item (``IRIS_SCORING_CACHE_SECONDS``), so a promotion or
    delete made on b reaches a's scoring within that window, and a's other reads at once."""
    a, b = replicas
    window = ApiSettings.model_fields["scoring_cache_seconds"].default
    mid = a.post("/api/models", json={"dataset_id": 0, "epochs": 1, "seed": 2}).json()["id"]
    wait_trained(a, mid, 1)
    assert a.post(f"/api/models/{mid}/train", json={"dataset_id": 0, "epochs": 1}).is_success
    wait_trained(a, mid, 2)
    first_row = bundled_csv().decode().splitlines()[1].split(",")[1:]
    row = {"values": [float(v) for v in first_row]}

    def a_scores() -> httpx.Response:
        return a.post(f"/api/models/{mid}/score", json=row)

    assert a_scores().json()["version"] == 2  # now kept on a
    back = {"version": 1, "force": True, "reviewer": "t"}
    promoted_at = time.monotonic()
    assert b.post(f"/api/models/{mid}/promote", json=back).status_code == 200
    assert a.get(f"/api/models/{mid}").json()["promoted_version"] == 1  # at once
    wait_for(lambda: a_scores().json()["version"] == 1, window + 5, "a scoring version 1")
    assert time.monotonic() - promoted_at < window + 5

    assert a_scores().json()["version"] == 1
    assert b.delete(f"/api/models/{mid}").status_code == 204
    assert a.get(f"/api/models/{mid}").status_code == 404  # at once
    wait_for(lambda: a_scores().status_code == 404, window + 5, "a refusing the deleted model")
