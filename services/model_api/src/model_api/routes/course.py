"""The course's ``/iris`` routes, same paths and shapes, for clients written against the lab.

They are synchronous as the lab's were (training waits for the job); the JSON API is the
non-blocking way. Errors use the service's one error shape instead of a crash.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from model_api.errors import ApiError, invalid
from model_api.features import FEATURE_NAMES
from model_api.routes.deps import ServicesDep
from model_api.routes.models import score
from model_api.schemas import ModelCreate, TrainRequest

router = APIRouter(prefix="/iris", tags=["course"])


async def _form_value(request: Request, field: str, limit: int) -> bytes | str | None:
    form = await request.form()
    value = form.get(field)
    if isinstance(value, UploadFile):
        data = await value.read(limit + 1)
        if len(data) > limit:
            raise ApiError(413, "too_large", f"the CSV is larger than {limit} bytes")
        return data
    return value


def _int_field(value: Any, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise invalid(f"'{field}' must be an integer id", {field: value}) from exc
    if number < 0:
        raise invalid(f"'{field}' must be an integer id", {field: value})
    return number


async def _wait_ready(services: ServicesDep, model_id: int, future: Any) -> dict[str, Any]:
    await asyncio.wrap_future(future)
    record = services.models.get(model_id)
    if record["status"] != "ready":
        raise ApiError(500, "training_failed", record["error"] or "training failed")
    return record


@router.post("/datasets")
async def upload_dataset(services: ServicesDep, request: Request) -> int:
    data = await _form_value(request, "train", services.settings.max_upload_bytes)
    if data is None:
        raise invalid("send the CSV in the form field 'train' (text or file)", code="no_csv")
    meta = await asyncio.to_thread(services.datasets.create, data, None)
    return int(meta["id"])


@router.post("/model")
async def build_and_train(services: ServicesDep, request: Request) -> int:
    form = await request.form()
    # the lab sent a form field; some clients put it in the query string
    dataset_id = _int_field(form.get("dataset", request.query_params.get("dataset")), "dataset")
    record, future = await asyncio.to_thread(
        services.models.create, ModelCreate(dataset_id=dataset_id)
    )
    await _wait_ready(services, record["id"], future)
    return int(record["id"])


@router.put("/model/{model_id}")
async def retrain(
    services: ServicesDep, model_id: int, dataset: Annotated[int, Query(ge=0)]
) -> dict[str, list[float]]:
    _, future = await asyncio.to_thread(
        services.models.retrain, model_id, TrainRequest(dataset_id=dataset)
    )
    done = await _wait_ready(services, model_id, future)
    return {k: v for k, v in done["history"].items() if v}


def _fields_row(fields: str) -> Any:
    import numpy as np

    parts = [p.strip() for p in fields.split(",")]
    if len(parts) != len(FEATURE_NAMES):
        raise invalid(
            f"'fields' needs {len(FEATURE_NAMES)} comma-separated numbers in CSV column order",
            {"got": len(parts), "feature_names": list(FEATURE_NAMES)},
        )
    try:
        row = np.asarray([[float(p) for p in parts]], dtype=np.float32)
    except ValueError as exc:
        raise invalid("'fields' must be numbers", {"fields": fields}) from exc
    if not np.isfinite(row).all():
        raise invalid("'fields' must be finite numbers", {"fields": fields})
    return row


@router.get("/model/{model_id}/score")
async def score_fields(services: ServicesDep, model_id: int, fields: str) -> str:
    return score(services, model_id, _fields_row(fields))["class_name"]


@router.get("/model/{model_id}")
async def score_fields_old(services: ServicesDep, model_id: int, fields: str) -> str:
    return score(services, model_id, _fields_row(fields))["class_name"]


@router.get("/model/{model_id}/test")
async def test(
    services: ServicesDep, model_id: int, dataset: Annotated[int, Query(ge=0)]
) -> dict[str, Any]:
    run = await services.batch_test(model_id, dataset, 0.0, None)
    return {"accuracy": run["accuracy"], "actual": run["actual"], "predicted": run["predicted"]}
