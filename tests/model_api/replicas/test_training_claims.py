"""A training job is claimed, not owned: its process SIGKILLed mid-training, the job is claimed
again (once its lease expires) and completes; it is never left ``failed`` by the restart."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.support.replicas import kill_and_follow
from tests.support.waits import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_job_killed_mid_training_is_claimed_again_and_completes(
    spawn: Any, tmp_path: Path
) -> None:
    first = spawn("first", tmp_path / "data")
    first.wait_ready()
    with first.client() as api:
        created = api.post("/api/models", json={"dataset_id": 0, "epochs": 60, "seed": 5})
        assert created.status_code == 202, created.text
        ident = created.json()["id"]
        wait_for(
            lambda: api.get(f"/api/models/{ident}").json()["progress"]["epoch"] >= 2,
            120,
            "training to get going",
        )
    # killed mid-training (no chance to say anything); then a new replica (new id), same state
    restart = partial(spawn, "second", tmp_path / "data")
    second, model, seen = kill_and_follow(first, restart, f"/api/models/{ident}", "ready", 150)
    assert model["status"] == "ready", model
    assert "failed" not in seen
    assert model["version"] == 1 and model["progress"]["epoch"] == 60
    assert f"claiming the training of model {ident}" in second.log.read_text()
