"""Run ids are minted in the registry: two replicas (two stores on one table) drawing the same
id get different ones, whether or not the first run was saved yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from model_api.core.objects import ObjectStore
from model_api.runs import store as run_store
from model_api.runs.store import RunStore

pytestmark = pytest.mark.integration


def test_two_replicas_never_hand_out_the_same_run_id(
    fresh_registry_table: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = ObjectStore((tmp_path / "objects").as_uri())
    a, b = RunStore(fresh_registry_table, objects), RunStore(fresh_registry_table, objects)
    drawn = iter(
        ["20261204T010000000Z-aaaa", "20261204T010000000Z-aaaa", "20261204T010000000Z-bbbb"]
    )
    monkeypatch.setattr(run_store, "new_run_id", lambda: next(drawn))
    first = a.new_id()
    second = b.new_id()  # draws the same id first (as another process may): refused, draws again
    assert (first, second) == ("20261204T010000000Z-aaaa", "20261204T010000000Z-bbbb")
    assert sorted(fresh_registry_table.keys("run_id")) == [first, second]
    assert a.exists(first) is False  # minted is not saved: no run is listed for it
