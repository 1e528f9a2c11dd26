"""Versions of a model, the retraining jobs that make them, comparison and promotion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from model_api.core.errors import error_responses
from model_api.deps import ServicesDep
from model_api.models.schemas import (
    CompareRequest,
    Comparison,
    Job,
    PromoteRequest,
    Promotion,
    Version,
    VersionCreate,
    VersionList,
)
from model_api.scorelog.routes import ReaderDep

router = APIRouter(prefix="/api", tags=["versions"])


@router.post(
    "/models/{model_id}/versions",
    status_code=202,
    response_model=Job,
    responses=error_responses(404, 409, 422, 429, 503, 507),
)
async def start_retraining(
    services: ServicesDep, reader: ReaderDep, model_id: int, body: VersionCreate
) -> dict[str, Any]:
    """Queue a retraining job on a base data set plus the runs' reviewed candidates (with
    their decided labels); poll ``GET /api/jobs/{job_id}``. The new version is not promoted."""
    return await services.flow.plan(reader, model_id, body)


@router.get(
    "/models/{model_id}/versions",
    response_model=VersionList,
    responses=error_responses(404, 422),
)
def list_versions(services: ServicesDep, model_id: int) -> dict[str, Any]:
    """Every version with its lineage and metrics, the promoted one and the promotions."""
    return services.versions.listing(model_id)


@router.get(
    "/models/{model_id}/versions/{version}",
    response_model=Version,
    responses=error_responses(404, 422),
)
def get_version(services: ServicesDep, model_id: int, version: int) -> dict[str, Any]:
    return services.versions.get(model_id, version)


@router.post(
    "/models/{model_id}/compare",
    response_model=Comparison,
    responses=error_responses(404, 409, 422, 507),
)
async def compare_versions(
    services: ServicesDep, model_id: int, body: CompareRequest
) -> dict[str, Any]:
    """Two versions on a data set, never on rows either trained on (409, or left out)."""
    a, b = body.versions
    return await run_in_threadpool(
        services.versions.compare, model_id, a, b, body.dataset_id, body.exclude_trained
    )


@router.post(
    "/models/{model_id}/promote",
    response_model=Promotion,
    responses=error_responses(404, 409, 422, 507),
)
def promote_version(services: ServicesDep, model_id: int, body: PromoteRequest) -> dict[str, Any]:
    """Make a version the one scoring, tests and the course routes use (409 if it did worse
    than the promoted one on their comparison, unless forced; forcing is recorded)."""
    return services.versions.promote(model_id, body.version, body.force, body.reviewer)


@router.get("/jobs/{job_id}", response_model=Job, responses=error_responses(404, 422))
def get_job(services: ServicesDep, job_id: str) -> dict[str, Any]:
    return services.flow.jobs.get(job_id)


@router.get("/jobs", response_model=list[Job], responses=error_responses(422))
def list_jobs(
    services: ServicesDep, model_id: Annotated[int | None, Query(ge=0)] = None
) -> list[dict[str, Any]]:
    return services.flow.jobs.list(model_id)
