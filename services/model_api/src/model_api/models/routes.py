"""``/api/models``: create (queues training), list, read, delete, retrain, score, batch-test."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from model_api.core.errors import error_responses
from model_api.deps import ServicesDep
from model_api.models.schemas import Model, ModelCreate, Score, ScoreRequest, TrainRequest
from model_api.models.scoring import feature_row, score
from model_api.runs.schemas import BatchTestRequest, TestRun

router = APIRouter(prefix="/api/models", tags=["models"])
VersionQuery = Annotated[
    int | None, Query(ge=1, description="a version of the model; default: the promoted one")
]


@router.post("", status_code=202, response_model=Model, responses=error_responses(404, 422, 429))
async def create_model(services: ServicesDep, body: ModelCreate) -> dict[str, Any]:
    record, _ = await run_in_threadpool(services.trainer.create, body)
    return record


@router.get("", response_model=list[Model])
def list_models(services: ServicesDep) -> list[dict[str, Any]]:
    return [services.versions.describe(m) for m in services.models.list()]


@router.get("/{model_id}", response_model=Model, responses=error_responses(404, 422))
def get_model(services: ServicesDep, model_id: int) -> dict[str, Any]:
    return services.versions.describe(services.models.get(model_id))


@router.delete("/{model_id}", status_code=204, responses=error_responses(404, 409, 422))
def delete_model(services: ServicesDep, model_id: int) -> Response:
    services.trainer.delete(model_id)
    services.versions.forget(model_id)
    return Response(status_code=204)


@router.post(
    "/{model_id}/train",
    status_code=202,
    response_model=Model,
    responses=error_responses(404, 409, 422, 429),
)
async def retrain_model(services: ServicesDep, model_id: int, body: TrainRequest) -> dict[str, Any]:
    record, _ = await run_in_threadpool(services.trainer.retrain, model_id, body)
    return record


@router.post("/{model_id}/score", response_model=Score, responses=error_responses(404, 409, 422))
def score_model(
    services: ServicesDep, model_id: int, body: ScoreRequest, version: VersionQuery = None
) -> dict[str, Any]:
    return score(services.versions, model_id, feature_row(body.values, body.features), version)


@router.post(
    "/{model_id}/tests",
    status_code=201,
    response_model=TestRun,
    responses=error_responses(404, 409, 422, 429, 503, 507),
)
async def test_model(
    services: ServicesDep, model_id: int, body: BatchTestRequest
) -> dict[str, Any]:
    return await services.tests.batch_test(
        model_id, body.dataset_id, body.flip_fraction, body.seed, body.version
    )
