"""The run listing, newest first, filtered by model and paged: filtered, each run's summary is
parsed once (the filter's parse serves the answer too), and the final logging kept on an item
still shows."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest
from model_api.core.objects import ObjectStore
from model_api.runs import store as run_store
from model_api.runs.store import RunStore

pytestmark = pytest.mark.integration


def _run(run_id: str, model_id: int) -> dict[str, Any]:
    return {"run_id": run_id, "model_id": model_id, "accuracy": 0.9, "actual": [0, 1]}


def test_a_listing_by_model_parses_each_summary_once(
    fresh_registry_table: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = RunStore(fresh_registry_table, ObjectStore((tmp_path / "objects").as_uri()))
    ids = [f"20261204T0{i}0000000Z-aaaa" for i in range(5)]
    for i, run_id in enumerate(ids):
        runs.save(_run(run_id, model_id=1 if i % 2 == 0 else 2))
    done = {"state": "complete", "pending": 0}
    runs.record_logging(ids[4], done)
    parsed: list[str] = []

    def loads(text: str) -> Any:
        parsed.append(text)
        return json.loads(text)

    monkeypatch.setattr(run_store, "json", types.SimpleNamespace(loads=loads, dumps=json.dumps))

    listing = runs.list(model_id=1, limit=2, offset=0)
    assert [r["run_id"] for r in listing["items"]] == [ids[4], ids[2]]
    assert listing["total"] == 3
    assert all("actual" not in r for r in listing["items"])  # summaries, no per-row lists
    assert listing["items"][0]["logging"] == done
    docs = [t for t in parsed if '"run_id"' in t]
    assert len(docs) == 5 and len(set(docs)) == 5  # every item once (to filter), none again

    parsed.clear()
    page = runs.list(model_id=None, limit=2, offset=1)
    assert [r["run_id"] for r in page["items"]] == [ids[3], ids[2]] and page["total"] == 5
    assert len([t for t in parsed if '"run_id"' in t]) == 2  # unfiltered: only the page's
    assert runs.list(model_id=3, limit=5, offset=0) == {"items": [], "total": 0}
