"""The read API (``GET /api/runs/{run_id}/records``, ``GET /api/retrain``) on a tiny app."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from infra.local.dynamodb_local import free_port
from model_api.core.errors import install_error_handlers
from model_api.runs.store import new_run_id
from model_api.scorelog.items import build_items
from model_api.scorelog.routes import router
from model_api.scorelog.service import ScoreLog

from tests.support.bundled import bundled_rows
from tests.support.scorelog_kit import Run, create_score_table, score_log, scored_rows

pytestmark = pytest.mark.integration


def make_app(log: ScoreLog) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await log.start()
        app.state.score_log = log
        yield
        await log.stop()

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(router)
    return app


def put_all(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        chunk = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
        resp = ddb.batch_write_item(RequestItems={table: chunk})
        assert not resp.get("UnprocessedItems")


@pytest.fixture(scope="module")
def module_tables(aws_endpoint: Any) -> Iterator[dict[str, str]]:
    """Tables filled once for this module (reads do not change them)."""
    ddb = boto3.client("dynamodb", **aws_endpoint.client_kwargs())
    streams = boto3.client("dynamodbstreams", **aws_endpoint.client_kwargs())
    suffix = uuid.uuid4().hex[:8]
    names = {"score": f"IrisExtended-v{suffix}", "retrain": f"IrisExtendedRetrain-v{suffix}"}
    for name in names.values():
        create_score_table(ddb, name, streams)
    yield names
    for name in names.values():
        ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def stocked(aws_endpoint: Any, module_tables: dict[str, str]) -> dict[str, Any]:
    """A 250-row run and a 3-row run of another model in the score table; flagged copies of
    some of their rows in the retrain table, as the flagger writes them."""
    ddb = boto3.client("dynamodb", **aws_endpoint.client_kwargs())
    big = Run(run_id=new_run_id(), model_id=1)
    small = Run(run_id=new_run_id(), model_id=2)
    big_items = [i for _, i in build_items(big, scored_rows(250))]
    small_items = [i for _, i in build_items(small, scored_rows(3))]
    put_all(ddb, module_tables["score"], big_items + small_items)
    flagged = []
    for item in big_items[:7] + small_items[:2]:
        flagged.append(
            item
            | {
                "reasons": {"SS": ["low_confidence", "misclassified"]},
                "flagged_at": {"S": "2026-11-25T04:00:00Z"},
                "threshold": {"S": "0.9"},
            }
        )
    put_all(ddb, module_tables["retrain"], flagged)
    return {"big": big, "small": small}


@pytest.fixture
def api(tmp_path: Path, module_tables: dict[str, str], aws_env: Any) -> Iterator[TestClient]:
    with TestClient(make_app(score_log(tmp_path, module_tables, aws_env))) as client:
        yield client


def all_pages(api: TestClient, url: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        resp = api.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_run_records_page_through_every_row_in_order(
    api: TestClient, stocked: dict[str, Any]
) -> None:
    run = stocked["big"]
    pages = all_pages(api, f"/api/runs/{run.run_id}/records", limit=100)
    assert [len(p) for p in pages[:3]] == [100, 100, 50]
    assert all(p == [] for p in pages[3:])  # at most one empty page after an exact boundary
    items = [i for p in pages for i in p]
    assert [i["position"] for i in items] == list(range(250))
    first = items[0]
    assert first["run_id"] == first["partition_key"] == run.run_id
    assert first["sort_key"] == "000000"
    assert first["Features"].startswith("{'species': 'setosa', 'elevation': 161.8, ")
    assert first["features"] == bundled_rows()[0]
    assert first["Probability"] == "0.98" and first["probability"] == 0.98
    assert first["model_id"] == 1 and first["dataset_id"] == 0
    assert json.loads(first["probabilities"]) == first["class_probabilities"]
    assert first["Class"] == first["Actual"] == "setosa"


def test_unknown_run_is_an_empty_page(api: TestClient, stocked: dict[str, Any]) -> None:
    resp = api.get("/api/runs/20000101T000000000Z-0000/records")
    assert resp.status_code == 200
    assert resp.json() == {"items": [], "next_cursor": None}


def test_retrain_by_run_by_model_and_all(api: TestClient, stocked: dict[str, Any]) -> None:
    big, small = stocked["big"], stocked["small"]
    by_run = [i for p in all_pages(api, "/api/retrain", run_id=big.run_id, limit=3) for i in p]
    assert [i["position"] for i in by_run] == list(range(7))
    assert by_run[0]["reasons"] == ["low_confidence", "misclassified"]
    assert by_run[0]["threshold"] == "0.9"
    by_model = [i for p in all_pages(api, "/api/retrain", model_id=2, limit=1) for i in p]
    assert sorted((i["run_id"], i["position"]) for i in by_model) == [
        (small.run_id, 0),
        (small.run_id, 1),
    ]
    every = [i for p in all_pages(api, "/api/retrain", limit=4) for i in p]
    assert len(every) == 9
    assert len({(i["run_id"], i["position"]) for i in every}) == 9


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"partition_key": {"S": "x"}}').decode(),
    ],
)
def test_a_bad_cursor_is_a_400(api: TestClient, stocked: dict[str, Any], cursor: str) -> None:
    resp = api.get(f"/api/runs/{stocked['big'].run_id}/records", params={"cursor": cursor})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_cursor"


def test_a_cursor_from_another_run_is_a_400(api: TestClient, stocked: dict[str, Any]) -> None:
    first = api.get(f"/api/runs/{stocked['big'].run_id}/records", params={"limit": 5}).json()
    resp = api.get(
        f"/api/runs/{stocked['small'].run_id}/records", params={"cursor": first["next_cursor"]}
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 5000}, {"model_id": -1}])
def test_bad_query_parameters_are_a_422(
    api: TestClient, stocked: dict[str, Any], params: dict[str, Any]
) -> None:
    resp = api.get("/api/retrain", params=params)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("where", "path", "code"),
    [
        ("missing tables", "/api/retrain", "table_not_found"),
        ("nothing listening", "/api/runs/some-run/records", "aws_unavailable"),
    ],
)
def test_an_aws_side_that_cannot_answer_is_a_503(
    tmp_path: Path, aws_env: Any, where: str, path: str, code: str
) -> None:
    if where == "missing tables":
        tables = {"score": "IrisExtended-missing", "retrain": "IrisExtendedRetrain-missing"}
        endpoint = aws_env
    else:  # the default names, at a port nothing listens on
        tables = {"score": "IrisExtended", "retrain": "IrisExtendedRetrain"}
        endpoint = SimpleNamespace(url=f"http://127.0.0.1:{free_port()}", region="us-east-1")
    with TestClient(make_app(score_log(tmp_path, tables, endpoint))) as api:
        resp = api.get(path)
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == code
    assert set(resp.json()["error"]) == {"code", "message", "details"}


def test_without_a_score_log_the_routes_answer_503() -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    with TestClient(app) as api:
        resp = api.get("/api/retrain")
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "score_log_unavailable"
