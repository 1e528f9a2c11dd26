"""HTTP routes for the score log's reads: ``app.include_router(scorelog.routes.router)``
(or only ``records_router``, when the app serves ``/api/retrain`` itself).

The app must set ``app.state.score_log`` to a started ``ScoreLog`` and install
``model_api.core.errors.install_error_handlers`` (errors are
``{"error": {code, message, details}}``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from model_api.core.errors import ApiError, error_responses, not_found
from model_api.scorelog.queries import BadCursor, Page, RecordReader, TableUnavailable
from model_api.scorelog.service import ScoreLog

records_router = APIRouter(prefix="/api", tags=["score log"])
# The raw retrain-table read; model_api serves /api/retrain from model_api.retrain.routes instead
# (the same items plus triage and review), so only a bare score-log app includes this one.
raw_retrain_router = APIRouter(prefix="/api", tags=["score log"])

MAX_LIMIT = 1000


class RecordPage(BaseModel):
    """One page of table items; follow ``next_cursor`` until it is null."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def get_reader(request: Request) -> RecordReader:
    """The reader of the app's started ``ScoreLog`` (503 if there is none yet)."""
    score_log: ScoreLog | None = getattr(request.app.state, "score_log", None)
    if score_log is None or score_log.client is None:
        raise ApiError(503, "score_log_unavailable", "the score log is not running")
    return score_log.reader()


ReaderDep = Annotated[RecordReader, Depends(get_reader)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="next_cursor of the previous page")
]


async def _page(call: Any) -> RecordPage:
    try:
        page: Page = await call
    except BadCursor as exc:
        raise ApiError(400, "invalid_cursor", str(exc)) from exc
    except TableUnavailable as exc:
        raise ApiError(503, exc.code, str(exc)) from exc
    return RecordPage(items=page.items, next_cursor=page.next_cursor)


@records_router.get(
    "/runs/{run_id}/records",
    response_model=RecordPage,
    responses=error_responses(400, 404, 422, 503),
)
async def run_records(
    request: Request,
    run_id: Annotated[str, Path(min_length=1, max_length=256)],
    reader: ReaderDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> RecordPage:
    """A run's records from the score table, in row order; 404 for a run the app never made
    (as ``GET /api/runs/{run_id}``), when the app keeps runs (``app.state.services.runs``)."""
    services = getattr(request.app.state, "services", None)
    if services is not None and not services.runs.exists(run_id):
        raise not_found("run", run_id)
    return await _page(reader.run_records(run_id, limit, cursor))


@raw_retrain_router.get(
    "/retrain", response_model=RecordPage, responses=error_responses(400, 422, 503)
)
async def retrain_candidates(
    reader: ReaderDep,
    run_id: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    model_id: Annotated[int | None, Query(ge=0)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> RecordPage:
    """Retrain candidates of a run, of a model, or all of them."""
    return await _page(reader.retrain(run_id, model_id, limit, cursor))


router = APIRouter()
router.include_router(records_router)
router.include_router(raw_retrain_router)
