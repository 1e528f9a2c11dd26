"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Clients (the dashboard, scripts) branch on ``code``; ``message`` is for people.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An expected failure with an HTTP status, a machine code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed request (e.g. a cursor this service did not hand out)",
    404: "No such data set, model or run",
    409: "Clashes with the current state (e.g. a model still training)",
    413: "The upload is larger than the configured limit",
    422: "The input is well-formed but invalid; ``details`` says where",
    429: "Too much work queued; retry after ``Retry-After`` seconds",
    500: "Unexpected server error",
    503: "A dependency (DynamoDB, the score log, storage) is unavailable",
    507: "The disk is full; nothing was stored",
}


def error_responses(*statuses: int, plain_route: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error statuses, all with the one error model.

    ``plain_route``: the route answers text/plain on success, its errors are still JSON (FastAPI
    would file a ``model`` under the route's own media type).
    """
    if plain_route:
        ref = {"$ref": "#/components/schemas/ErrorResponse"}
        return {
            s: {
                "description": _DESCRIPTIONS.get(s, "Error"),
                "content": {"application/json": {"schema": ref}},
            }
            for s in statuses
        }
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS.get(status, "Error")}
        for status in statuses
    }


def not_found(kind: str, ident: object) -> ApiError:
    """404 for a missing dataset, model or run."""
    return ApiError(404, f"{kind}_not_found", f"{kind} {ident} does not exist")


def invalid(message: str, details: Any = None, code: str = "invalid_input") -> ApiError:
    """422 for input that is well-formed HTTP but makes no sense."""
    return ApiError(422, code, message, details)


def conflict(code: str, message: str, details: Any = None) -> ApiError:
    """409 when the request clashes with the current state (e.g. a model still training)."""
    return ApiError(409, code, message, details)


def too_busy(code: str, message: str, retry_after: int, details: Any = None) -> ApiError:
    """429 when a bounded queue is full: nothing was created; try again after ``retry_after`` s."""
    return ApiError(429, code, message, details, headers={"Retry-After": str(int(retry_after))})


def insufficient_storage(message: str) -> ApiError:
    """507 when the disk (or quota) is full: nothing was stored."""
    return ApiError(507, "insufficient_storage", message)


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def install_error_handlers(app: FastAPI) -> None:
    """Route every error, including FastAPI's own, through the single error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "the request is invalid", jsonable_encoder(details)),
            status_code=422,
        )

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno not in DISK_FULL_ERRNOS:
            return await _unexpected(request, exc)
        log.error("disk full: %s", exc)
        err = insufficient_storage(f"the service's disk is full: {exc.strerror}")
        return await _api_error(request, err)

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    async def _aws(request: Request, exc: Exception) -> JSONResponse:
        # A safety net: a DynamoDB call that no service translated (endpoint down, table
        # missing, throttled past the retries) is the dependency's outage, not a bug here.
        log.warning("AWS call failed: %s", exc)
        err = ApiError(
            503,
            "aws_unavailable",
            "a DynamoDB call failed; try again when the AWS endpoint answers",
            {"error": type(exc).__name__, "message": str(exc)[:500]},
            headers={"Retry-After": "5"},
        )
        return await _api_error(request, err)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "unexpected server error; see the service log"),
            status_code=500,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; a path served by
            # several routes (GET and POST /api/datasets) allows all of theirs.
            allow = ", ".join(allowed_methods(request))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": allow})
            headers["Allow"] = allow
        code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )


def allowed_methods(request: Request) -> list[str]:
    """Every method the app serves at the request's path (+ OPTIONS, answered here)."""
    methods = {"OPTIONS"}
    for route in _routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _routes(routes: list[Any]) -> list[Any]:
    """The app's routes, flattened (FastAPI keeps an included router's routes inside it)."""
    out: list[Any] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _routes(inner.routes) if inner is not None else [route]
    return out
