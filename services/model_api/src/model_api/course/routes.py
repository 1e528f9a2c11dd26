"""The course's ``/iris`` routes, same paths and bytes, for clients written against the lab.

Course clients parse these answers literally (``int(r.text)``, ``int(text.split('=')[-1])``,
``pd.read_json(r.text)``), so this layer only translates the ``/api`` results into the lab's
shapes: plain-text indices, ``Score done, class=<index>``, class INDICES in sorted class-name
order (scikit-learn's ``LabelEncoder``). They are synchronous as the lab's were (training waits
for the job); the JSON API is the non-blocking way. Errors use the service's one error shape.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from model_api.core.errors import ApiError, error_responses, invalid
from model_api.core.forms import csv_field, form_body, read_form
from model_api.deps import ServicesDep
from model_api.models.network import TrainingDiverged
from model_api.models.schemas import ModelCreate, TrainRequest
from model_api.models.scoring import fields_row, score
from model_api.models.training import TrainingJob

router = APIRouter(prefix="/iris", tags=["course"])


class CourseTest(BaseModel):
    """The lab's batch-test answer: class indices (sorted class names) per row."""

    accuracy: float
    actual: list[int]
    predicted: list[int]


def _text(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {"text/plain": {"schema": {"type": "string"}, "example": example}},
        }
    }


def _int_field(value: Any, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise invalid(f"'{field}' must be an integer id", {field: value}) from exc
    if number < 0:
        raise invalid(f"'{field}' must be an integer id", {field: value})
    return number


async def _wait_ready(
    services: ServicesDep, model_id: int, dataset_id: int, future: TrainingJob
) -> dict[str, Any]:
    """The trained model; a training that diverged on the client's data is theirs to fix (422,
    the model keeps its earlier weights), any other failure is ours (500)."""
    failure = await asyncio.wrap_future(future)
    record = services.models.get(model_id)
    if isinstance(failure, TrainingDiverged):
        raise ApiError(
            422,
            "training_diverged",
            f"data set {dataset_id} cannot train model {model_id}: {failure}"
            + (f"; the model keeps version {record['version']}" if record["version"] else ""),
            {"model_id": model_id, "dataset_id": dataset_id, "version": record["version"]},
        )
    if record["status"] != "ready":
        raise ApiError(500, "training_failed", record["error"] or "training failed")
    return record


@router.post(
    "/datasets",
    response_class=PlainTextResponse,
    responses={
        **_text("The new data set's index", "1"),
        **error_responses(400, 413, 422, 507, plain_route=True),
    },
    openapi_extra=form_body(
        {"train": {"type": "string", "description": "the CSV, as text or as a file part"}},
        ["train"],
    ),
)
async def upload_dataset(services: ServicesDep, request: Request) -> PlainTextResponse:
    """Upload a CSV (form field ``train``, text or file, up to ``IRIS_MAX_UPLOAD_BYTES``)."""
    limit = services.settings.max_upload_bytes
    data = await csv_field(await read_form(request, limit), ("train",), limit)
    if data is None:
        raise invalid("send the CSV in the form field 'train' (text or file)", code="no_csv")
    meta = await asyncio.to_thread(services.datasets.create, data, None)
    return PlainTextResponse(str(int(meta["id"])))


async def _dataset_param(request: Request, limit: int) -> Any:
    """``dataset`` from the form (the lab), the query string, or a JSON body (some clients)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise invalid("the JSON body cannot be parsed", code="invalid_json") from exc
        if isinstance(body, dict) and "dataset" in body:
            return body["dataset"]
    else:
        form = await read_form(request, limit)
        if "dataset" in form:
            return form["dataset"]
    return request.query_params.get("dataset")


@router.post(
    "/model",
    response_class=PlainTextResponse,
    responses={
        **_text("The new model's index", "0"),
        **error_responses(404, 422, 429, 500, plain_route=True),
    },
    openapi_extra=form_body(
        {"dataset": {"type": "integer", "minimum": 0, "description": "the data set's index"}},
        ["dataset"],
        json_too=True,
    ),
)
async def build_and_train(services: ServicesDep, request: Request) -> PlainTextResponse:
    """Build a model on data set ``dataset`` and train it (waits for the training)."""
    value = await _dataset_param(request, 64 * 1024)
    dataset_id = _int_field(value, "dataset")
    record, future = await asyncio.to_thread(
        services.trainer.create, ModelCreate(dataset_id=dataset_id)
    )
    await _wait_ready(services, record["id"], dataset_id, future)
    return PlainTextResponse(str(int(record["id"])))


# JSON answers are sent as ``json.dumps`` writes them (as Flask did), not re-serialised by
# pydantic, whose float text can differ; ``response_model`` still documents them.
@router.put(
    "/model/{model_id}",
    response_model=dict[str, list[float]],
    responses=error_responses(404, 409, 422, 429, 500),
)
async def retrain(
    services: ServicesDep, model_id: int, dataset: Annotated[int, Query(ge=0)]
) -> JSONResponse:
    """Retrain model ``model_id`` on data set ``dataset``; the Keras ``history.history``."""
    _, future = await asyncio.to_thread(
        services.trainer.retrain, model_id, TrainRequest(dataset_id=dataset)
    )
    done = await _wait_ready(services, model_id, dataset, future)
    return JSONResponse({k: v for k, v in done["history"].items() if v})


def _score_text(services: ServicesDep, model_id: int, fields: str) -> PlainTextResponse:
    result = score(services.versions, model_id, fields_row(fields))
    index = sorted(result["classes"]).index(result["class_name"])
    return PlainTextResponse(f"Score done, class={index}")


_SCORE = {
    "response_class": PlainTextResponse,
    "responses": {
        **_text("The predicted class INDEX (sorted class names)", "Score done, class=0"),
        **error_responses(404, 409, 422, plain_route=True),
    },
}
Fields = Annotated[str, Query(description="the 20 features, comma-separated, CSV column order")]


@router.get("/model/{model_id}/score", **_SCORE)
def score_fields(services: ServicesDep, model_id: int, fields: Fields) -> PlainTextResponse:
    """Score one row: ``Score done, class=<index>``."""
    return _score_text(services, model_id, fields)


@router.get("/model/{model_id}", **_SCORE)
def score_fields_old(services: ServicesDep, model_id: int, fields: Fields) -> PlainTextResponse:
    """The older scoring path of the lab, same answer."""
    return _score_text(services, model_id, fields)


@router.get(
    "/model/{model_id}/test",
    response_model=CourseTest,
    responses=error_responses(404, 409, 422, 429, 507),
)
async def test(
    services: ServicesDep, model_id: int, dataset: Annotated[int, Query(ge=0)]
) -> JSONResponse:
    """Batch-test a model on a data set (also logged as a run); class indices per row."""
    run = await services.tests.batch_test(model_id, dataset, 0.0, None)
    index = {name: i for i, name in enumerate(sorted(run["labels"]))}
    body = CourseTest(
        accuracy=run["accuracy"],
        actual=[index[a] for a in run["actual"]],
        predicted=[index[p] for p in run["predicted"]],
    )
    return JSONResponse(body.model_dump())
