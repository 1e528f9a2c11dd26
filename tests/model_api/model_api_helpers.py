"""Helpers shared by the model_api tests (imported by path: pytest runs in importlib mode)."""

from __future__ import annotations

import io
import time
from typing import Any

import pandas as pd
from model_api.datasets.store import bundled_csv


def wait_for_model(client: Any, model_id: int, deadline_s: float = 300.0) -> dict[str, Any]:
    """Poll until the model leaves queued/training (bounded, so a hung job fails the test)."""
    end = time.monotonic() + deadline_s
    while True:
        body = client.get(f"/api/models/{model_id}").json()
        if body["status"] not in ("queued", "training"):
            return body
        if time.monotonic() > end:
            raise AssertionError(f"model {model_id} still {body['status']} after {deadline_s}s")
        time.sleep(0.2)


def bundled_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(bundled_csv()))


def sample_csv(rows_per_class: int, seed: int = 0) -> str:
    """A small, balanced slice of the bundled data set as CSV text."""
    df = bundled_frame()
    parts = [g.sample(rows_per_class, random_state=seed) for _, g in df.groupby("species")]
    return pd.concat(parts).to_csv(index=False)


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    """The API's one error shape, with this status and code and a message for people."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"} and err["code"] == code and err["message"]
    return err
