"""Who may call model_api: Host allow-list, cross-site refusal, bearer tokens, request size.

One pure-ASGI middleware, so every route (including FastAPI's docs and the metrics endpoint) is
guarded before any handler runs, and refusals use the API's one error shape:

- ``Host`` not in ``IRIS_ALLOWED_HOSTS`` -> 400 ``host_not_allowed`` (DNS rebinding).
- a browser request from another site (foreign ``Origin``, or ``Sec-Fetch-Site: cross-site``
  without an allowed Origin) -> 403 ``cross_site_refused``. Course clients send neither header.
- with ``IRIS_API_TOKEN`` set, every route except ``/health/*`` needs
  ``Authorization: Bearer <token>`` (the course routes also take ``?access_token=``, for clients
  that cannot set headers) -> 401 ``unauthenticated`` otherwise. Tokens compare in constant time.
- a body larger than ``IRIS_MAX_REQUEST_BYTES`` -> 413 ``request_too_large``, counted as it
  streams, so a missing or lying ``Content-Length`` does not help.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from iris_common.webguard import cross_site_refusal, host_allowed
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from model_api.config import ApiSettings
from model_api.core.errors import error_body
from model_api.schema.document import LIMIT_PROVIDERS

OPEN_PREFIXES = ("/health/",)  # probes (Docker, load balancers) carry no token
QUERY_TOKEN_PREFIXES = ("/iris/",)  # the course's clients may not be able to set headers
QUERY_TOKEN_PARAM = "access_token"


def _request_limits(settings: ApiSettings) -> dict[str, dict[str, Any]]:
    """The guard's bound, published in ``GET /api/schema``'s ``limits``."""
    return {"request_bytes": {"max": settings.max_request_bytes}}


LIMIT_PROVIDERS.append(_request_limits)


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive`` mid-body; an HTTPException so FastAPI's body parsing re-raises it
    (as 413) instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def token_matches(presented: str | None, tokens: list[str]) -> bool:
    """Constant-time comparison against every configured token (no early exit on a match)."""
    if not presented:
        return False
    given = presented.encode()
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token.encode())
    return found


def _presented_token(scope: Scope, headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scope["path"].startswith(QUERY_TOKEN_PREFIXES):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get(QUERY_TOKEN_PARAM)
        if values:
            return values[0]
    return None


async def _refuse(send: Send, status: int, code: str, message: str, **headers: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """The guards above, in that order; health probes skip only the token."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.tokens = settings.api_tokens
        self.allowed_hosts = settings.allowed_host_names
        self.allowed_origins = settings.cors_origin_list
        self.max_body = settings.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host")
        if not host_allowed(host, self.allowed_hosts):
            await _refuse(send, 400, "host_not_allowed", f"Host {host!r} is not served here")
            return
        why = cross_site_refusal(
            scope["method"],
            headers.get("origin"),
            headers.get("sec-fetch-site"),
            host,
            self.allowed_origins,
        )
        if why:
            await _refuse(send, 403, "cross_site_refused", why)
            return
        if self._needs_token(scope) and not token_matches(
            _presented_token(scope, headers), self.tokens
        ):
            await _refuse(
                send,
                401,
                "unauthenticated",
                "a valid token is required: Authorization: Bearer <IRIS_API_TOKEN>",
                **{"www-authenticate": "Bearer"},
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _refuse(send, 413, "request_too_large", self._too_large_message())
            return
        await self._call_bounded(scope, receive, send)

    def _needs_token(self, scope: Scope) -> bool:
        return bool(self.tokens) and not scope["path"].startswith(OPEN_PREFIXES)

    def _too_large_message(self) -> str:
        return f"the request body is larger than {self.max_body} bytes"

    async def _call_bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, stopping it with 413 once the streamed body passes the limit."""
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, 413, "request_too_large", self._too_large_message())


GUARD_RESPONSES = {
    "400": "Malformed request, or a Host this service does not serve (``host_not_allowed``)",
    "401": "No valid bearer token (only when IRIS_API_TOKEN is set)",
    "403": "A cross-site browser request (``cross_site_refused``)",
    "413": "The request body is larger than IRIS_MAX_REQUEST_BYTES",
}


def document_guards(app: Any) -> None:
    """Add the guards' statuses and the bearer scheme to every operation of the OpenAPI document,
    so clients (and the schemathesis run) know every status a route can answer."""
    from fastapi.openapi.utils import get_openapi

    from model_api.core.errors import ErrorResponse

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = doc.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        if "ErrorResponse" not in schemas:
            model = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(model.pop("$defs", {}))
            schemas["ErrorResponse"] = model
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
        }
        ref = {"$ref": "#/components/schemas/ErrorResponse"}
        error = {"application/json": {"schema": ref}}
        for path, operations in doc.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                _errors_are_json(responses, error)
                if "{" in path or _references_ids(operation, doc):
                    responses.setdefault(
                        "404", {"description": "A referenced id does not exist", "content": error}
                    )
                for status, text in GUARD_RESPONSES.items():
                    if status == "401" and path.startswith(OPEN_PREFIXES):
                        continue
                    responses.setdefault(status, {"description": text, "content": error})
                if not path.startswith(OPEN_PREFIXES):
                    operation.setdefault("security", [{}, {"bearer": []}])  # optional: see 401
        app.openapi_schema = doc
        return doc

    app.openapi = openapi


def _errors_are_json(responses: dict[str, Any], error: dict[str, Any]) -> None:
    """Every 4xx/5xx body is JSON: on routes whose success is text/plain FastAPI files extra
    responses under that media type, and for 422 it documents its own ``HTTPValidationError``,
    which the error handlers replace. Other documented JSON bodies are kept."""
    for status, response in responses.items():
        if status[:1] not in ("4", "5"):
            continue
        json_body = response.get("content", {}).get("application/json")
        ref = (json_body or {}).get("schema", {}).get("$ref", "")
        if json_body is None or ref.endswith("/HTTPValidationError"):
            response["content"] = error


def _references_ids(operation: dict[str, Any], doc: dict[str, Any]) -> bool:
    """True when the JSON body names other resources (``dataset_id``, ``model_id``, ...)."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = doc["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
    return any(name.endswith("_id") for name in schema.get("properties", {}))


def install_security(app: Any, settings: ApiSettings) -> None:
    """Add the guards, and CORS only when origins are allowed (closed by default)."""
    app.add_middleware(SecurityMiddleware, settings=settings)
    document_guards(app)
    origins = settings.cors_origin_list
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
