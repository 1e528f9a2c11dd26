"""``/api/datasets/{id}/histogram`` and ``/api/datasets/{id}/columns``: what a chart needs of a
data set (bin counts, or only its plotted columns) instead of every row."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from model_api import dataset_views
from model_api.errors import error_responses
from model_api.routes.deps import ServicesDep

router = APIRouter(prefix="/api/datasets", tags=["datasets"], responses=error_responses(404, 422))


@router.get("/{dataset_id}/histogram")
async def dataset_histogram(
    services: ServicesDep,
    dataset_id: int,
    column: Annotated[str, Query(min_length=1, max_length=100)],
    bins: Annotated[int | None, Query(ge=1, le=dataset_views.MAX_BINS)] = None,
) -> dict[str, Any]:
    """Per-class counts over shared bin edges of one numeric column (``bins`` omitted: numpy's
    "auto" rule)."""
    frame = services.datasets.frame(dataset_id)
    return {"dataset_id": dataset_id} | dataset_views.histogram(frame, column, bins)


@router.get("/{dataset_id}/columns")
async def dataset_columns(
    services: ServicesDep,
    dataset_id: int,
    name: Annotated[list[str], Query(min_length=1, max_length=20)],
) -> dict[str, Any]:
    """The named numeric columns as arrays plus every row's label, e.g. for a scatter."""
    frame = services.datasets.frame(dataset_id)
    return {"dataset_id": dataset_id} | dataset_views.columns(frame, name)
