"""``/api/datasets``: upload (file part or text field), list, read, page rows, delete."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from model_api import responses
from model_api.errors import ApiError, conflict, error_responses, invalid
from model_api.retrain_dataset import candidates_frame, fetch_candidates
from model_api.routes.deps import ServicesDep

router = APIRouter(prefix="/api/datasets", tags=["datasets"])


async def read_csv_input(
    services: ServicesDep, file: UploadFile | None, text: str | None, field: str
) -> bytes:
    """The CSV bytes from a file part or a text field, bounded in size."""
    limit = services.settings.max_upload_bytes
    if file is not None and getattr(file, "filename", None) is not None:
        data = await file.read(limit + 1)
    elif text is not None:
        data = text.encode()
    else:
        raise invalid(
            f"send the CSV as a file part 'file' or a form field '{field}'", code="no_csv"
        )
    if len(data) > limit:
        raise ApiError(413, "too_large", f"the CSV is larger than {limit} bytes")
    return data


@router.post(
    "", status_code=201, response_model=responses.Dataset, responses=error_responses(413, 422)
)
async def create_dataset(
    services: ServicesDep,
    file: Annotated[UploadFile | None, File()] = None,
    csv: Annotated[str | None, Form()] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
) -> dict[str, Any]:
    data = await read_csv_input(services, file, csv, "csv")
    name = name or (file.filename if file is not None and file.filename else None)
    return await run_in_threadpool(services.datasets.create, data, name)


class FromRetrain(BaseModel):
    """Which candidates to take, and an optional data set to append them to."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(default=None, max_length=100)
    model_id: int | None = Field(default=None, ge=0)
    base_dataset_id: int | None = Field(default=None, ge=0)
    name: str | None = Field(default=None, max_length=200)


@router.post(
    "/from-retrain",
    status_code=201,
    response_model=responses.Dataset,
    responses=error_responses(404, 422, 503),
)
async def dataset_from_retrain(services: ServicesDep, body: FromRetrain) -> dict[str, Any]:
    """A new data set from the retrain table's candidates (+ a base data set): the loop back
    from flagged records to training."""
    base = None
    if body.base_dataset_id is not None:
        base = services.datasets.frame(body.base_dataset_id)
    if services.scorelog is None or services.scorelog.client is None:
        raise ApiError(503, "score_log_unavailable", "the score log is not running")
    items = await fetch_candidates(services.scorelog.reader(), body.run_id, body.model_id)
    if not items:
        raise invalid("no retrain candidates match", body.model_dump(), code="no_candidates")
    frame = candidates_frame(items)
    if base is not None:
        frame = pd.concat([base, frame], ignore_index=True)
    name = body.name or f"retrain-{body.run_id or body.model_id or 'all'}"
    data = frame.to_csv(index=False)
    return await run_in_threadpool(services.datasets.create, data, name)


@router.get("", response_model=list[responses.Dataset])
async def list_datasets(services: ServicesDep) -> list[dict[str, Any]]:
    return services.datasets.list()


@router.get("/{dataset_id}", response_model=responses.Dataset, responses=error_responses(404, 422))
async def get_dataset(services: ServicesDep, dataset_id: int) -> dict[str, Any]:
    return services.datasets.get(dataset_id)


@router.get(
    "/{dataset_id}/rows", response_model=responses.RowsPage, responses=error_responses(404, 422)
)
async def dataset_rows(
    services: ServicesDep,
    dataset_id: int,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    """A page of rows; ``sort=<column>[:asc|:desc]`` (repeatable) orders the whole data set
    first, so a grid can page through a sorted view without downloading it."""
    return services.datasets.rows(dataset_id, offset, limit, sort or ())


@router.delete("/{dataset_id}", status_code=204, responses=error_responses(404, 409, 422))
async def delete_dataset(services: ServicesDep, dataset_id: int) -> Response:
    services.datasets.get(dataset_id)
    if services.models.dataset_in_use(dataset_id):
        raise conflict("dataset_in_use", f"a model is training on dataset {dataset_id}")
    services.datasets.delete(dataset_id)
    return Response(status_code=204)
