"""Batch-test runs: ``/api/runs``, ``/api/runs/{run_id}`` and its ``retest``.

The table reads (``/api/runs/{run_id}/records``, ``/api/retrain``) are the score log's routes,
``model_api.scorelog.routes``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from model_api.core.errors import error_responses
from model_api.deps import ServicesDep
from model_api.runs.schemas import Retest, RunList, RunSummary, TestRun

router = APIRouter(prefix="/api", tags=["runs"])


@router.get("/runs", response_model=RunList, responses=error_responses(422))
async def list_runs(
    services: ServicesDep,
    model_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return await services.tests.summaries(model_id, limit, offset)


@router.get("/runs/{run_id}", response_model=RunSummary, responses=error_responses(404, 422))
async def get_run(services: ServicesDep, run_id: str) -> dict[str, Any]:
    return await services.tests.summary(run_id)


@router.post(
    "/runs/{run_id}/retest",
    status_code=201,
    response_model=TestRun,
    responses=error_responses(404, 409, 422, 429, 503, 507),
)
async def retest_run(services: ServicesDep, run_id: str, body: Retest) -> dict[str, Any]:
    """Test the run's model again on the run's exact rows: same data set, same ``seed`` and
    ``flip_fraction`` (so the same labels flipped), with a chosen or the promoted version."""
    return await services.tests.retest(run_id, body.version)
