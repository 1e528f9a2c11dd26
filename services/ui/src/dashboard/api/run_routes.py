"""The dashboard's calls to model_api's batch tests, runs, score records, retrain candidates and
reviews (the score log)."""

from __future__ import annotations

from typing import Any

from dashboard.api.models import (
    ItemPage,
    Json,
    Reviewed,
    Run,
    RunList,
    TestRun,
)
from dashboard.api.transport import Transport, segment


class RunRoutes(Transport):
    """``/api/models/{id}/tests``, ``/api/runs`` and ``/api/retrain``."""

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
        return self._request("GET", f"/api/runs/{segment(run_id)}")

    def run_records(self, run_id: str, limit: int = 100, cursor: str | None = None) -> ItemPage:
        params: Json = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._request("GET", f"/api/runs/{segment(run_id)}/records", params=params)

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
