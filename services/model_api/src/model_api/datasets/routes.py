"""``/api/datasets``: upload (file part or text field), list, read, page rows, delete; and what a
chart needs of a data set (``histogram`` bin counts, or only its plotted ``columns``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from model_api.core.errors import conflict, error_responses, invalid
from model_api.core.forms import csv_field, form_body, read_form
from model_api.datasets import stats
from model_api.datasets.schemas import Dataset, RowsPage
from model_api.deps import ServicesDep

router = APIRouter(prefix="/api/datasets", tags=["datasets"])


@router.post(
    "",
    status_code=201,
    response_model=Dataset,
    responses=error_responses(400, 413, 422, 507),
    openapi_extra=form_body(
        {
            "file": {"type": "string", "format": "binary", "description": "the CSV file"},
            "csv": {"type": "string", "description": "or the CSV as a text field"},
            "name": {"type": "string", "maxLength": 200, "description": "a display name"},
        },
        [],
    ),
)
async def create_dataset(services: ServicesDep, request: Request) -> dict[str, Any]:
    """Upload a CSV as a file part ``file`` or a text field ``csv``, either up to
    ``IRIS_MAX_UPLOAD_BYTES`` (the form is read here, past Starlette's 1 MiB per text field)."""
    limit = services.settings.max_upload_bytes
    form = await read_form(request, limit)
    data = await csv_field(form, ("file", "csv"), limit)
    if data is None:
        raise invalid("send the CSV as a file part 'file' or a form field 'csv'", code="no_csv")
    name = form.get("name")
    if isinstance(name, UploadFile) or (name is not None and len(name) > 200):
        raise invalid("'name' must be a text of at most 200 characters", {"name": "too long"})
    upload = form.get("file")
    if not name and isinstance(upload, UploadFile) and upload.filename:
        name = upload.filename
    return await run_in_threadpool(services.datasets.create, data, name or None)


@router.get("", response_model=list[Dataset])
def list_datasets(services: ServicesDep) -> list[dict[str, Any]]:
    return services.datasets.list()


@router.get("/{dataset_id}", response_model=Dataset, responses=error_responses(404, 422))
def get_dataset(services: ServicesDep, dataset_id: int) -> dict[str, Any]:
    return services.datasets.get(dataset_id)


@router.get("/{dataset_id}/rows", response_model=RowsPage, responses=error_responses(404, 422))
def dataset_rows(
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
def delete_dataset(services: ServicesDep, dataset_id: int) -> Response:
    services.datasets.get(dataset_id)
    if services.trainer.dataset_in_use(dataset_id):
        raise conflict("dataset_in_use", f"a model is training on dataset {dataset_id}")
    services.datasets.delete(dataset_id)
    return Response(status_code=204)


@router.get("/{dataset_id}/histogram", responses=error_responses(404, 422))
def dataset_histogram(
    services: ServicesDep,
    dataset_id: int,
    column: Annotated[str, Query(min_length=1, max_length=100)],
    bins: Annotated[int | None, Query(ge=1, le=stats.MAX_BINS)] = None,
) -> dict[str, Any]:
    """Per-class counts over shared bin edges of one numeric column (``bins`` omitted: numpy's
    "auto" rule)."""
    frame = services.datasets.frame(dataset_id)
    return {"dataset_id": dataset_id} | stats.histogram(frame, column, bins)


@router.get("/{dataset_id}/columns", responses=error_responses(404, 422))
def dataset_columns(
    services: ServicesDep,
    dataset_id: int,
    name: Annotated[list[str], Query(min_length=1, max_length=20)],
) -> dict[str, Any]:
    """The named numeric columns as arrays plus every row's label, e.g. for a scatter."""
    frame = services.datasets.frame(dataset_id)
    return {"dataset_id": dataset_id} | stats.columns(frame, name)
