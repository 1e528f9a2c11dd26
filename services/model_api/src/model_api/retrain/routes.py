"""``/api/retrain``: candidates with triage and review; ``/api/retrain/reviews``: decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from model_api.core.errors import ApiError, error_responses
from model_api.deps import ServicesDep
from model_api.retrain.schemas import Cause, RetrainPage, Reviewed, ReviewRequest
from model_api.retrain.service import Filters
from model_api.scorelog.queries import BadCursor, TableUnavailable
from model_api.scorelog.routes import MAX_LIMIT, Cursor, ReaderDep

router = APIRouter(prefix="/api/retrain", tags=["retrain"])


async def _guard(call: Any) -> Any:
    try:
        return await call
    except BadCursor as exc:
        raise ApiError(400, "invalid_cursor", str(exc)) from exc
    except TableUnavailable as exc:
        raise ApiError(503, exc.code, str(exc)) from exc


@router.get("", response_model=RetrainPage, responses=error_responses(400, 422, 503))
async def retrain_candidates(
    services: ServicesDep,
    reader: ReaderDep,
    run_id: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    model_id: Annotated[int | None, Query(ge=0)] = None,
    cause: Cause | None = None,
    reviewed: bool | None = None,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    actual: Annotated[
        str | None, Query(max_length=100, description="the candidate's class")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Candidates of a run, of a model, or all, each with ``label_quality``,
    ``suspected_cause``, ``suggested_label``, ``triage_reasons`` and ``review``. Filters apply
    to each page as read, so a filtered page may hold fewer than ``limit`` items: follow
    ``next_cursor`` until it is null."""
    filters = Filters(cause, reviewed, reason, actual)
    return await _guard(services.retrain.page(reader, run_id, model_id, limit, cursor, filters))


@router.post("/reviews", response_model=Reviewed, responses=error_responses(400, 404, 422, 503))
async def review_candidates(
    services: ServicesDep, reader: ReaderDep, body: ReviewRequest
) -> dict[str, Any]:
    """Store decisions (``relabel`` to a label — by default the suggestion —, ``keep``,
    ``exclude``) on the candidates' items, or accept every suggestion of one cause in a run."""
    return await _guard(services.retrain.review(services.dynamodb, reader, body))
