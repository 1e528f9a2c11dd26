"""Batch-test runs: ``/api/runs`` and ``/api/runs/{run_id}``.

The table reads (``/api/runs/{run_id}/records``, ``/api/retrain``) are the score log's routes,
``model_api.scorelog.routes``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from model_api import responses
from model_api.core.errors import error_responses
from model_api.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["runs"])


@router.get("/runs", response_model=responses.RunList, responses=error_responses(422))
async def list_runs(
    services: ServicesDep,
    model_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return await services.run_summaries(model_id, limit, offset)


@router.get(
    "/runs/{run_id}", response_model=responses.RunSummary, responses=error_responses(404, 422)
)
async def get_run(services: ServicesDep, run_id: str) -> dict[str, Any]:
    return await services.run_summary(run_id)
