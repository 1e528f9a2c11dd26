"""A test double of model_api for the dashboard's unit tests: an in-memory implementation of the
contract's routes behind ``httpx.MockTransport``, recording every request it receives.

It cannot drift from the real API: every answer it gives is checked against the real app's
routes (``real_contract``): the route must exist there with the same method, a success must
have the real route's status and validate against its ``response_model``, an error must be in
the one error shape with a status the real route declares.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard.api import ApiClient
from model_api.core.errors import ErrorResponse
from model_api.core.errors import _routes as flat_routes
from pydantic import TypeAdapter
from starlette.routing import Match

from tests.support.bundled import BUNDLED_CSV, bundled_rows

REPO = Path(__file__).resolve().parents[2]


def _error(status: int, code: str, message: str, details: Any = None) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "details": details}}
    return httpx.Response(status, json=body)


def _listing_or_id(
    store: dict[int, Any], rest: list[str], code: str, noun: str
) -> httpx.Response | int:
    """A GET on a collection: the listing (no id) or a 404 (unknown id) as the answer, else the
    id of the item for the caller to serve."""
    if not rest:
        return httpx.Response(200, json=list(store.values()))
    ident = int(rest[0])
    if ident not in store:
        return _error(404, code, f"{noun} {ident} does not exist")
    return ident


@dataclass
class FakeApi:
    """Enough of model_api for the pages' logic; ``fail`` makes a route answer an error."""

    datasets: dict[int, dict[str, Any]] = field(default_factory=dict)
    rows: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    models: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    candidates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    fail: dict[str, httpx.Response] = field(default_factory=dict)
    page_cap: int = 1000
    test_accuracy: float | None = None  # what the next batch test scores, when set

    def add_dataset(self, rows: list[dict[str, Any]], name: str = "iris.csv") -> int:
        ident = len(self.datasets)
        columns = list(rows[0]) if rows else []
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["species"]] = counts.get(r["species"], 0) + 1
        self.datasets[ident] = {
            "id": ident,
            "name": name,
            "created_at": "2026-11-25T03:15:09.123Z",
            "rows": len(rows),
            "columns": columns,
            "feature_names": [c for c in columns if c != "species"],
            "class_counts": counts,
            "stats": {},
        }
        self.rows[ident] = rows
        return ident

    def calls(self, method: str, path_prefix: str) -> list[httpx.Request]:
        return [
            r for r in self.requests if r.method == method and r.url.path.startswith(path_prefix)
        ]

    # --- the transport ---------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = f"{request.method} {request.url.path}"
        for pattern, response in self.fail.items():
            if key.startswith(pattern):
                return response  # a fault injected by the test (outage, proxy page, ...)
        response = self._route(request, key)
        check_against_real_api(request, response)
        return response

    def _route(self, request: httpx.Request, key: str) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        route: Callable[..., httpx.Response] | None = getattr(
            self, f"_{request.method.lower()}_{parts[1] if len(parts) > 1 else parts[0]}", None
        )
        if route is None:
            return _error(404, "not_found", f"no route {key}")
        return route(request, parts[2:])

    def _get_schema(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        return httpx.Response(200, json=real_schema())

    def _post_schema(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        """``/api/schema/derive`` by the real API's own formulas (nothing to fake there)."""
        from model_api.core.errors import ApiError as RealApiError
        from model_api.schema.document import FEATURE_NAMES, derive

        try:
            features = derive(json.loads(request.content)["inputs"])
        except RealApiError as exc:
            return _error(exc.status, exc.code, exc.message, exc.details)
        return httpx.Response(
            200, json={"features": features, "values": [features[n] for n in FEATURE_NAMES]}
        )

    def _get_ready(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        return httpx.Response(200, json={"status": "ready", "checks": {"tables": "ok"}})

    def _get_datasets(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        ident = _listing_or_id(self.datasets, rest, "dataset_not_found", "data set")
        if isinstance(ident, httpx.Response):
            return ident
        if len(rest) == 1:
            return httpx.Response(200, json=self.datasets[ident])
        if rest[1] in ("histogram", "columns") or request.url.params.get_list("sort"):
            return self._dataset_view(request, ident, rest[1])
        offset = int(request.url.params.get("offset", 0))
        limit = min(int(request.url.params.get("limit", 100)), self.page_cap)
        rows = self.rows[ident]
        return httpx.Response(
            200,
            json={
                "total": len(rows),
                "offset": offset,
                "limit": limit,
                "rows": rows[offset : offset + limit],
            },
        )

    def _dataset_view(self, request: httpx.Request, ident: int, view: str) -> httpx.Response:
        """Histogram bins, plotted columns and sorted pages: model_api's own functions on the
        rows (the same answers as the real service, not a second implementation)."""
        import pandas as pd
        from model_api.core.errors import ApiError as ServiceError
        from model_api.datasets import stats as dataset_views

        frame = pd.DataFrame.from_records(self.rows[ident])
        params = request.url.params
        try:
            if view == "histogram":
                bins = int(params["bins"]) if "bins" in params else None
                body = dataset_views.histogram(frame, params["column"], bins)
            elif view == "columns":
                body = dataset_views.columns(frame, params.get_list("name"))
            else:
                ordered = dataset_views.sorted_frame(frame, params.get_list("sort"))
                offset = int(params.get("offset", 0))
                limit = min(int(params.get("limit", 100)), self.page_cap)
                page = ordered.iloc[offset : offset + limit].astype(object)
                body = {"total": len(frame), "offset": offset, "limit": limit}
                body["rows"] = page.to_dict(orient="records")
        except ServiceError as exc:
            return _error(exc.status, exc.code, exc.message, exc.details)
        return httpx.Response(200, json={"dataset_id": ident} | body)

    def _post_datasets(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        body = request.content.decode()
        if "species" not in body:
            return _error(422, "invalid_csv", "the CSV has no species column")
        start = body.index("species")
        text = body[start : body.index("\r\n--", start)]
        reader = csv.DictReader(text.splitlines())
        rows = [{k: (v if k == "species" else float(v)) for k, v in r.items()} for r in reader]
        ident = self.add_dataset(rows, name="uploaded.csv")
        return httpx.Response(201, json=self.datasets[ident])

    def finish_training(self, ident: int, status: str = "ready") -> None:
        """What model_api's background task does at the end of a (re)training."""
        model = self.models[ident]
        model["status"] = status
        if status == "ready":
            model["progress"] = dict(model["progress"], epoch=model["progress"]["epochs"])
            model["version"] = int(model.get("version") or 1) + 1
        else:
            model["error"] = "training diverged"

    def _get_models(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        ident = _listing_or_id(self.models, rest, "model_not_found", "model")
        if isinstance(ident, httpx.Response):
            return ident
        return httpx.Response(200, json=self.models[ident])

    def _post_models(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        if not rest:
            ident = len(self.models)
            self.models[ident] = model_json(ident, body["dataset_id"], status="queued", params=body)
            return httpx.Response(202, json=self.models[ident])
        ident = int(rest[0])
        if rest[1] == "score":
            probs = {"setosa": 0.9, "versicolor": 0.07, "virginica": 0.03}
            return httpx.Response(
                200,
                json={
                    "model_id": ident,
                    "class_name": "setosa",
                    "class_index": 0,
                    "probabilities": probs,
                    "classes": list(probs),
                },
            )
        if rest[1] == "train":
            self.models[ident]["status"] = "training"
            self.models[ident]["train_dataset_id"] = body["dataset_id"]
            self.models[ident]["progress"] = dict(self.models[ident]["progress"], epoch=1)
            return httpx.Response(202, json=self.models[ident])
        if rest[1] == "tests":
            run = run_json(ident, body["dataset_id"])
            if run["run_id"] in self.runs:  # a second test is a new run
                run["run_id"] = f"{run['run_id']}-{len(self.runs)}"
            run["flip_fraction"] = body.get("flip_fraction", 0.0)
            run["seed"] = body.get("seed")
            if self.test_accuracy is not None:
                run["accuracy"] = self.test_accuracy
            self.runs[run["run_id"]] = run
            return httpx.Response(201, json=run)
        return _error(404, "not_found", "no route")

    def _summary(self, run: dict[str, Any]) -> dict[str, Any]:
        """A run as the API returns it: ``flagged`` counted from the retrain table."""
        flagged = len(self.candidates.get(run["run_id"], []))
        rows = int(run.get("rows") or 0)
        return {**run, "flagged": flagged, "flagged_share": flagged / rows if rows else None}

    def _get_runs(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        if not rest:
            items = [self._summary(r) for r in self.runs.values()]
            return httpx.Response(200, json={"items": items, "total": len(items)})
        run_id = rest[0]
        if len(rest) > 1:  # records are read from the score table by partition key
            return self._page(request, self.records.get(run_id, []))
        if run_id not in self.runs:
            return _error(404, "run_not_found", f"run {run_id} does not exist")
        return httpx.Response(200, json=self._summary(self.runs[run_id]))

    def _get_retrain(self, request: httpx.Request, rest: list[str]) -> httpx.Response:
        return self._page(request, self.candidates.get(request.url.params.get("run_id", ""), []))

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        start = int(request.url.params.get("cursor") or 0)
        limit = min(int(request.url.params.get("limit", 100)), self.page_cap)
        end = start + limit
        cursor = str(end) if end < len(items) else None
        return httpx.Response(200, json={"items": items[start:end], "next_cursor": cursor})


def real_schema() -> dict[str, Any]:
    """What the real ``GET /api/schema`` answers with default settings."""
    from model_api.config import ApiSettings
    from model_api.schema.document import schema

    return schema(ApiSettings(scorelog_enabled=False))


@lru_cache
def real_contract() -> list[Any]:
    """The real model_api app's routes (built once; nothing is started or trained)."""
    from model_api.app import create_app
    from model_api.config import ApiSettings

    app = create_app(ApiSettings(data_dir=Path(tempfile.mkdtemp()), scorelog_enabled=False))
    return [r for r in flat_routes(app.router.routes) if hasattr(r, "response_model")]


def check_against_real_api(request: httpx.Request, response: httpx.Response) -> None:
    """Fail the test when the fake answers something the real API could not."""
    scope = {"type": "http", "path": request.url.path, "method": request.method, "root_path": ""}
    routes = [r for r in real_contract() if r.matches(scope)[0] == Match.FULL]
    assert routes, f"the fake serves {request.method} {request.url.path}; model_api does not"
    route = routes[0]
    status = response.status_code
    if status < 400:
        assert status == (route.status_code or 200), (route.path, status)
        if route.response_model is not None and status != 204:
            TypeAdapter(route.response_model).validate_python(response.json())
        return
    declared = {int(s) for s in route.responses} | {500}
    assert status in declared, f"{route.path} never answers {status} (declares {declared})"
    ErrorResponse.model_validate(response.json())


def model_json(ident: int, dataset_id: int, status: str = "ready", params: dict | None = None):
    return {
        "id": ident,
        "name": f"model-{ident}",
        "status": status,
        "dataset_id": dataset_id,
        "classes": ["setosa", "versicolor", "virginica"],
        "feature_names": [],
        "params": params
        or {"hidden_layers": [10, 10], "epochs": 3, "batch_size": 32, "learning_rate": 0.01},
        "progress": {
            "epoch": 3 if status == "ready" else 1,
            "epochs": 3,
            "loss": 0.2,
            "accuracy": 0.9,
            "val_loss": 0.25,
            "val_accuracy": 0.88,
        },
        "history": {
            "loss": [0.9, 0.5, 0.2],
            "accuracy": [0.5, 0.8, 0.9],
            "val_loss": [1.0, 0.6, 0.25],
            "val_accuracy": [0.4, 0.7, 0.88],
        },
        "metrics": {
            "holdout_accuracy": 0.95,
            "holdout_loss": 0.2,
            "train_accuracy": 0.96,
            "holdout_rows": 240,
        }
        if status == "ready"
        else {},
        "error": None,
        "version": 1,
        "created_at": "2026-11-25T03:00:00Z",
        "updated_at": "2026-11-25T03:01:00Z",
    }


def run_json(model_id: int, dataset_id: int, run_id: str = "20261125T031509123Z-7f3a"):
    return {
        "run_id": run_id,
        "model_id": model_id,
        "dataset_id": dataset_id,
        "created_at": "2026-11-25T03:15:09.123Z",
        "rows": 10,
        "accuracy": 0.8,
        "labels": ["setosa", "versicolor", "virginica"],
        "confusion_matrix": [[3, 1, 0], [0, 3, 0], [1, 0, 2]],
        "per_class": {
            "setosa": {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4},
            "versicolor": {"precision": 0.75, "recall": 1.0, "f1": 0.857, "support": 3},
            "virginica": {"precision": 1.0, "recall": 0.667, "f1": 0.8, "support": 3},
        },
        "actual": [],
        "predicted": [],
        "probability": [],
        "flipped": [1, 7],
        "logging": {"total": 10, "written": 4, "pending": 6, "failed": 0, "state": "writing"},
    }


def score_item(run_id: str, row: int, predicted: str, actual: str, p: float) -> dict[str, Any]:
    return {
        "partition_key": run_id,
        "sort_key": f"{row:06d}",
        "Class": predicted,
        "Actual": actual,
        "Probability": str(p),
        "Features": "{}",
        "model_id": 0,
        "dataset_id": 0,
        "created_at": "2026-11-25T03:15:10.000Z",
    }


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(fake_api: FakeApi) -> ApiClient:
    api = ApiClient("http://model-api.test", transport=httpx.MockTransport(fake_api.handle))
    yield api
    api.close()


@pytest.fixture
def make() -> Any:
    """The JSON builders above, for tests (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        model=model_json,
        run=run_json,
        score_item=score_item,
        bundled_rows=bundled_rows,
        csv_path=BUNDLED_CSV,
    )


@pytest.fixture
def limits() -> dict[str, Any]:
    """The real API's input limits (``GET /api/schema``)."""
    return real_schema()["limits"]


@pytest.fixture(scope="session")
def bundled() -> list[dict[str, Any]]:
    return bundled_rows()
