"""The HTTP side of :class:`~dashboard.api.client.ApiClient`: one httpx client, the request id
passed on, and every failure turned into one :class:`~dashboard.api.errors.ApiError`.

The route modules (``data_routes``, ``model_routes``, ``run_routes``) build on :class:`Transport`,
so each holds only the routes of its domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import httpx
from iris_common.logs import REQUEST_ID_HEADER, current_request_id

from dashboard.api.errors import ApiError, error_from
from dashboard.api.models import Json, Readiness, Schema
from dashboard.config import UiSettings

# The largest page the client asks for when it needs a whole collection (model_api may cap it
# lower; the client follows the ``limit`` the API echoes back).
PAGE = 1000


def _pass_request_id(request: httpx.Request) -> None:
    """The dashboard request's id goes along, so model_api logs the same id."""
    request_id = current_request_id()
    if request_id:
        request.headers[REQUEST_ID_HEADER] = request_id


class Transport:
    """The connection to model_api and the calls every route shares."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers=headers,
            event_hooks={"request": [_pass_request_id]},
        )
        self._schema: Schema | None = None

    @classmethod
    def from_settings(cls, settings: UiSettings) -> Self:
        return cls(
            settings.api_url,
            connect_timeout=settings.api_connect_timeout,
            read_timeout=settings.api_read_timeout,
            token=settings.api_tokens[0] if settings.api_tokens else None,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiError(
                f"The model service at {self.base_url} did not answer in time", code="timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise ApiError(
                f"The model service at {self.base_url} is not reachable ({exc.__class__.__name__})",
                code="unreachable",
            ) from exc
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ApiError(
                    "The model service answered with something that is not JSON",
                    code="bad_response",
                    status=response.status_code,
                ) from exc
        raise error_from(response)

    # --- health ----------------------------------------------------------------------------

    def ready(self) -> Readiness:
        """``GET /health/ready``; a 503 still returns its body (it lists the failing checks)."""
        try:
            response = self._http.get("/health/ready")
        except httpx.HTTPError as exc:
            raise ApiError(
                f"The model service at {self.base_url} is not reachable", code="unreachable"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (200, 503) and isinstance(body, dict) and "status" in body:
            return body
        raise error_from(response)

    @staticmethod
    def _collect(fetch: Callable[[int, str | None], Json], max_items: int) -> list[Json]:
        items: list[Json] = []
        cursor: str | None = None
        while len(items) < max_items:
            page = fetch(min(PAGE, max_items - len(items)), cursor)
            batch = page.get("items", [])
            items.extend(batch)
            cursor = page.get("next_cursor")
            if not cursor or not batch:
                break
        return items


def segment(value: str) -> str:
    """Run ids are opaque strings: keep them one URL path segment."""
    text = str(value)
    if not text or "/" in text:
        raise ApiError(f"Not a valid run id: {text!r}", code="invalid_run_id")
    return httpx.URL(f"/{text}").raw_path.decode().lstrip("/")
