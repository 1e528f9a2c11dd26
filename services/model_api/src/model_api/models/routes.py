"""``/api/models``: create (queues training), list, read, delete, retrain, score, batch-test."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from model_api import responses
from model_api.core.errors import error_responses, invalid
from model_api.core.observability import SCORES
from model_api.deps import Services, ServicesDep
from model_api.models.finite import finite_probabilities
from model_api.models.schemas import ModelCreate, ScoreRequest, TrainRequest
from model_api.runs.schemas import BatchTestRequest
from model_api.schema.features import FEATURE_NAMES

router = APIRouter(prefix="/api/models", tags=["models"])
VersionQuery = Annotated[
    int | None, Query(ge=1, description="a version of the model; default: the promoted one")
]


def with_versions(services: Services, rec: dict[str, Any]) -> dict[str, Any]:
    """The model with which version scores (``promoted_version``) and how many it has."""
    numbers = services.versions.store.numbers(rec["id"])
    return {
        **rec,
        "promoted_version": services.versions.store.promoted(rec["id"]),
        "versions": len(numbers),
        "latest_version": max(numbers, default=None),
    }


@router.post(
    "", status_code=202, response_model=responses.Model, responses=error_responses(404, 422, 429)
)
async def create_model(services: ServicesDep, body: ModelCreate) -> dict[str, Any]:
    record, _ = await run_in_threadpool(services.models.create, body)
    return record


@router.get("", response_model=list[responses.Model])
async def list_models(services: ServicesDep) -> list[dict[str, Any]]:
    return [with_versions(services, m) for m in services.models.list()]


@router.get("/{model_id}", response_model=responses.Model, responses=error_responses(404, 422))
async def get_model(services: ServicesDep, model_id: int) -> dict[str, Any]:
    return with_versions(services, services.models.get(model_id))


@router.delete("/{model_id}", status_code=204, responses=error_responses(404, 409, 422))
async def delete_model(services: ServicesDep, model_id: int) -> Response:
    services.models.delete(model_id)
    services.versions.store.forget(model_id)
    return Response(status_code=204)


@router.post(
    "/{model_id}/train",
    status_code=202,
    response_model=responses.Model,
    responses=error_responses(404, 409, 422, 429),
)
async def retrain_model(services: ServicesDep, model_id: int, body: TrainRequest) -> dict[str, Any]:
    record, _ = await run_in_threadpool(services.models.retrain, model_id, body)
    return record


def feature_row(body: ScoreRequest) -> np.ndarray:
    """The 20 inputs in canonical order, or a 422 naming what is missing or unknown."""
    if body.values is not None:
        if len(body.values) != len(FEATURE_NAMES):
            raise invalid(
                f"'values' needs {len(FEATURE_NAMES)} numbers in CSV column order",
                {"got": len(body.values), "feature_names": list(FEATURE_NAMES)},
            )
        values = body.values
    else:
        given = body.features or {}
        missing = [n for n in FEATURE_NAMES if n not in given]
        unknown = [n for n in given if n not in FEATURE_NAMES]
        if missing or unknown:
            raise invalid(
                "'features' must name each of the 20 features once",
                {"missing": missing, "unknown": unknown},
            )
        values = [given[n] for n in FEATURE_NAMES]
    row = np.asarray([values], dtype=np.float32)
    if not np.isfinite(row).all():
        raise invalid("feature values must be finite numbers")
    return row


def score(
    services: Services, model_id: int, row: np.ndarray, version: int | None = None
) -> dict[str, Any]:
    """Predict one row with the numpy forward pass (no ``model.predict`` per request), with
    the promoted version unless one is named."""
    predictor, classes, version = services.versions.predictor(model_id, version)
    probs = finite_probabilities(predictor, row)[0]
    best = int(probs.argmax())
    SCORES.inc()
    return {
        "model_id": model_id,
        "version": version,
        "class_name": classes[best],
        "class_index": best,
        "probabilities": {c: float(p) for c, p in zip(classes, probs, strict=True)},
        "classes": classes,
    }


@router.post(
    "/{model_id}/score", response_model=responses.Score, responses=error_responses(404, 409, 422)
)
async def score_model(
    services: ServicesDep, model_id: int, body: ScoreRequest, version: VersionQuery = None
) -> dict[str, Any]:
    return score(services, model_id, feature_row(body), version)


@router.post(
    "/{model_id}/tests",
    status_code=201,
    response_model=responses.TestRun,
    responses=error_responses(404, 409, 422, 429, 503, 507),
)
async def test_model(
    services: ServicesDep, model_id: int, body: BatchTestRequest
) -> dict[str, Any]:
    return await services.batch_test(
        model_id, body.dataset_id, body.flip_fraction, body.seed, body.version
    )
