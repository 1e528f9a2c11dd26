"""Helpers the model_api tests share: waiting for a model, the API's one error shape."""

from __future__ import annotations

import time
from typing import Any


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


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    """The API's one error shape, with this status and code and a message for people."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"} and err["code"] == code and err["message"]
    return err
