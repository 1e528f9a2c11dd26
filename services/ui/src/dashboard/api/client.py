"""The one way the dashboard talks to model_api: a small typed httpx client.

One method per route; answers are typed (:mod:`dashboard.api.models`); every failure becomes one
:class:`~dashboard.api.errors.ApiError`, so a page needs a single ``except ApiError``.
Longer than 300 lines because it is one table of the routes the dashboard calls (a few lines
each, the paging loops next to the routes they follow); split, a route would be harder to find.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import httpx
from iris_common.logs import REQUEST_ID_HEADER, current_request_id

from dashboard.api.errors import ApiError, error_from
from dashboard.api.models import (
    Comparison,
    Dataset,
    Derived,
    ItemPage,
    Job,
    Json,
    Model,
    Promotion,
    Readiness,
    Reviewed,
    RowsPage,
    Run,
    RunList,
    Schema,
    Score,
    TestRun,
    VersionList,
)
from dashboard.config import UiSettings, get_settings

# The largest page the client asks for when it needs a whole collection (model_api may cap it
# lower; the client follows the ``limit`` the API echoes back).
_PAGE = 1000


def _pass_request_id(request: httpx.Request) -> None:
    """The dashboard request's id goes along, so model_api logs the same id."""
    request_id = current_request_id()
    if request_id:
        request.headers[REQUEST_ID_HEADER] = request_id


class ApiClient:
    """Typed calls to the model_api routes in docs/contract.md (one method per route)."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers=headers,
            event_hooks={"request": [_pass_request_id]},
        )
        self._schema: Schema | None = None

    @classmethod
    def from_settings(cls, settings: UiSettings) -> ApiClient:
        return cls(
            settings.api_url,
            connect_timeout=settings.api_connect_timeout,
            read_timeout=settings.api_read_timeout,
            token=settings.api_tokens[0] if settings.api_tokens else None,
        )

    def close(self) -> None:
        self._http.close()

    # --- transport -------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(
                f"The model service at {self.base_url} did not answer in time", code="timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise ApiError(
                f"The model service at {self.base_url} is not reachable ({exc.__class__.__name__})",
                code="unreachable",
            ) from exc
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ApiError(
                    "The model service answered with something that is not JSON",
                    code="bad_response",
                    status=response.status_code,
                ) from exc
        raise error_from(response)

    # --- health ----------------------------------------------------------------------------

    def ready(self) -> Readiness:
        """``GET /health/ready``; a 503 still returns its body (it lists the failing checks)."""
        try:
            response = self._http.get("/health/ready")
        except httpx.HTTPError as exc:
            raise ApiError(
                f"The model service at {self.base_url} is not reachable", code="unreachable"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (200, 503) and isinstance(body, dict) and "status" in body:
            return body
        raise error_from(response)

    # --- the input contract ----------------------------------------------------------------

    def schema(self) -> Schema:
        """``GET /api/schema`` (features, formulas, classes, limits, states): fetched once and
        kept; while the API is down it raises ``ApiError`` and the next call asks again."""
        if self._schema is None:
            self._schema = self._request("GET", "/api/schema")
        return self._schema

    def derive(self, inputs: Json) -> Derived:
        """``POST /api/schema/derive``: the 20 features from the 9 independent inputs."""
        return self._request("POST", "/api/schema/derive", json={"inputs": inputs})

    # --- datasets --------------------------------------------------------------------------

    def list_datasets(self) -> list[Dataset]:
        return self._request("GET", "/api/datasets")

    def get_dataset(self, dataset_id: int) -> Dataset:
        return self._request("GET", f"/api/datasets/{int(dataset_id)}")

    def dataset_rows(
        self, dataset_id: int, offset: int = 0, limit: int = 100, sort: list[str] | None = None
    ) -> RowsPage:
        """One page of rows; ``sort`` (``"column:asc|desc"``) orders the whole set first."""
        params: Json = {"offset": offset, "limit": limit}
        if sort:
            params["sort"] = sort
        return self._request("GET", f"/api/datasets/{int(dataset_id)}/rows", params=params)

    def dataset_histogram(self, dataset_id: int, column: str, bins: int | None = None) -> Json:
        """Per-class bin counts of one column (computed by model_api, not from every row)."""
        params: Json = {"column": column} | ({"bins": bins} if bins else {})
        return self._request("GET", f"/api/datasets/{int(dataset_id)}/histogram", params=params)

    def dataset_columns(self, dataset_id: int, names: list[str]) -> Json:
        """Only the named columns (and every row's label), e.g. for a scatter."""
        params = {"name": list(names)}
        return self._request("GET", f"/api/datasets/{int(dataset_id)}/columns", params=params)

    def all_rows(self, dataset_id: int) -> list[Json]:
        """Every row of a data set, following the API's paging."""
        rows: list[Json] = []
        offset = 0
        while True:
            page = self.dataset_rows(dataset_id, offset=offset, limit=_PAGE)
            batch = page.get("rows", [])
            rows.extend(batch)
            offset += len(batch)
            if not batch or offset >= int(page.get("total", 0)):
                return rows

    def upload_dataset(self, filename: str, content: bytes, name: str | None = None) -> Dataset:
        """``POST /api/datasets`` with the CSV as a multipart ``file`` part."""
        data = {"name": name} if name else None
        files = {"file": (filename or "upload.csv", content, "text/csv")}
        return self._request("POST", "/api/datasets", files=files, data=data)

    def delete_dataset(self, dataset_id: int) -> None:
        self._request("DELETE", f"/api/datasets/{int(dataset_id)}")

    # --- models ----------------------------------------------------------------------------

    def list_models(self) -> list[Model]:
        return self._request("GET", "/api/models")

    def get_model(self, model_id: int) -> Model:
        return self._request("GET", f"/api/models/{int(model_id)}")

    def create_model(self, spec: Json) -> Model:
        return self._request("POST", "/api/models", json=spec)

    def retrain_model(self, model_id: int, spec: Json) -> Model:
        return self._request("POST", f"/api/models/{int(model_id)}/train", json=spec)

    def delete_model(self, model_id: int) -> None:
        self._request("DELETE", f"/api/models/{int(model_id)}")

    def score(
        self,
        model_id: int,
        *,
        features: dict[str, float] | None = None,
        values: list[float] | None = None,
    ) -> Score:
        """Score one row, given either the 20 named features or 20 values in CSV order."""
        if (features is None) == (values is None):
            raise ValueError("give exactly one of features or values")
        body: Json = {"features": features} if features is not None else {"values": values}
        return self._request("POST", f"/api/models/{int(model_id)}/score", json=body)

    # --- batch tests and the score log ------------------------------------------------------

    def run_test(
        self, model_id: int, dataset_id: int, flip_fraction: float = 0.0, seed: int | None = None
    ) -> TestRun:
        body = {"dataset_id": int(dataset_id), "flip_fraction": flip_fraction, "seed": seed}
        return self._request("POST", f"/api/models/{int(model_id)}/tests", json=body)

    def list_runs(self, model_id: int | None = None, limit: int = 50, offset: int = 0) -> RunList:
        params: Json = {"limit": limit, "offset": offset}
        if model_id is not None:
            params["model_id"] = int(model_id)
        return self._request("GET", "/api/runs", params=params)

    def get_run(self, run_id: str) -> Run:
        return self._request("GET", f"/api/runs/{_segment(run_id)}")

    def run_records(self, run_id: str, limit: int = 100, cursor: str | None = None) -> ItemPage:
        params: Json = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._request("GET", f"/api/runs/{_segment(run_id)}/records", params=params)

    def retrain_candidates(
        self,
        run_id: str | None = None,
        model_id: int | None = None,
        limit: int = 100,
        cursor: str | None = None,
        **filters: Any,
    ) -> ItemPage:
        """One page of candidates with triage and review; ``filters`` (``cause``, ``reviewed``,
        ``actual``...) narrow it server-side, ``None`` ones are left out."""
        params: Json = {"limit": limit} | {k: v for k, v in filters.items() if v is not None}
        if run_id:
            params["run_id"] = run_id
        if model_id is not None:
            params["model_id"] = int(model_id)
        if cursor:
            params["cursor"] = cursor
        return self._request("GET", "/api/retrain", params=params)

    def all_run_records(self, run_id: str, max_items: int = 5000) -> list[Json]:
        """A run's score records, following ``next_cursor`` up to ``max_items``."""
        return self._collect(
            lambda limit, cursor: self.run_records(run_id, limit, cursor), max_items
        )

    def all_retrain_candidates(
        self, run_id: str, max_items: int = 5000, **filters: Any
    ) -> list[Json]:
        """A run's retrain candidates (``filters`` as for one page), following ``next_cursor``
        up to ``max_items``."""
        return self._collect(
            lambda limit, cursor: self.retrain_candidates(
                run_id=run_id, limit=limit, cursor=cursor, **filters
            ),
            max_items,
        )

    # --- the retrain loop: reviews, versions, jobs, comparison, promotion ---------------------

    def review(self, body: Json) -> Reviewed:
        return self._request("POST", "/api/retrain/reviews", json=body)

    def start_version(self, model_id: int, body: Json) -> Job:
        return self._request("POST", f"/api/models/{int(model_id)}/versions", json=body)

    def versions(self, model_id: int) -> VersionList:
        return self._request("GET", f"/api/models/{int(model_id)}/versions")

    def job(self, job_id: str) -> Job:
        return self._request("GET", f"/api/jobs/{_segment(job_id)}")

    def jobs(self, model_id: int) -> list[Job]:
        return self._request("GET", "/api/jobs", params={"model_id": int(model_id)})

    def compare(self, model_id: int, body: Json) -> Comparison:
        return self._request("POST", f"/api/models/{int(model_id)}/compare", json=body)

    def promote(self, model_id: int, body: Json) -> Promotion:
        return self._request("POST", f"/api/models/{int(model_id)}/promote", json=body)

    @staticmethod
    def _collect(fetch: Callable[[int, str | None], Json], max_items: int) -> list[Json]:
        items: list[Json] = []
        cursor: str | None = None
        while len(items) < max_items:
            page = fetch(min(_PAGE, max_items - len(items)), cursor)
            batch = page.get("items", [])
            items.extend(batch)
            cursor = page.get("next_cursor")
            if not cursor or not batch:
                break
        return items


def _segment(value: str) -> str:
    """Run ids are opaque strings: keep them one URL path segment."""
    text = str(value)
    if not text or "/" in text:
        raise ApiError(f"Not a valid run id: {text!r}", code="invalid_run_id")
    return httpx.URL(f"/{text}").raw_path.decode().lstrip("/")


@lru_cache
def get_client() -> ApiClient:
    """The process's shared client (a connection pool; it holds no per-user state)."""
    return ApiClient.from_settings(get_settings())
