"""Helpers the model_api tests share: the app on a test's tables or offline, waiting for a model
or a run's score log, paging a list route, the API's one error shape."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from model_api.app import create_app
from model_api.config import ApiSettings


def settings_on(tables: dict[str, str], data_dir: Path, **extra: Any) -> ApiSettings:
    """model_api's settings on the test's provisioned tables (``extra`` for the rest)."""
    return ApiSettings(
        data_dir=data_dir,
        score_table=tables["score"],
        retrain_table=tables["retrain"],
        registry_table=tables["registry"],
        **extra,
    )


@contextlib.contextmanager
def offline_client(data_dir: Path, **extra: Any) -> Iterator[TestClient]:
    """The real app in-process with its score log off (no AWS), training capped at 50 epochs."""
    settings = ApiSettings(
        data_dir=data_dir, **{"scorelog_enabled": False, "max_epochs": 50} | extra
    )
    with TestClient(create_app(settings)) as client:
        yield client


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


def wait_logged(client: Any, run_id: str, deadline_s: float = 120.0) -> dict[str, Any]:
    """Poll until the run has no records pending in its score log; returns its logging status."""
    end = time.monotonic() + deadline_s
    while True:
        logging = client.get(f"/api/runs/{run_id}").json()["logging"]
        if logging["pending"] == 0:
            return logging
        if time.monotonic() > end:
            raise AssertionError(f"run {run_id} still logging after {deadline_s}s: {logging}")
        time.sleep(0.2)


def all_pages(client: Any, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a paged list route, following ``next_cursor`` (bounded, each page 200)."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    """The API's one error shape, with this status and code and a message for people."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"} and err["code"] == code and err["message"]
    return err
