"""The dashboard's one error for a failed model_api call, and how a response becomes one.

Every failure — the API's error shape ``{"error": {"code", "message", "details"}}``, a non-JSON
error page, a refused connection, a timeout — becomes one :class:`ApiError`, so a page needs a
single ``except ApiError`` to show an alert and stay usable.
"""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """A failed model_api call, with what the user needs to read in an alert."""

    def __init__(
        self, message: str, *, code: str = "error", status: int | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details

    def __str__(self) -> str:
        where = f"HTTP {self.status}, " if self.status is not None else ""
        text = f"{self.message} ({where}{self.code})"
        detail = _detail_text(self.details)
        return f"{text}: {detail}" if detail else text


def _detail_text(details: Any) -> str:
    """FastAPI validation details are lists of ``{loc, msg}``; show them short and readable."""
    if not details:
        return ""
    if isinstance(details, list):
        parts = []
        for item in details[:5]:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", []) if p not in ("body", "query"))
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(details, dict):
        return "; ".join(f"{k}: {v}" for k, v in list(details.items())[:5])
    return str(details)


def error_from(response: httpx.Response) -> ApiError:
    """Turn a non-2xx response into an ApiError, preferring the API's documented error shape."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return ApiError(
            str(err.get("message") or response.reason_phrase),
            code=str(err.get("code") or "error"),
            status=response.status_code,
            details=err.get("details"),
        )
    if isinstance(body, dict) and "detail" in body:  # a bare FastAPI error, just in case
        return ApiError(
            "The model service rejected the request",
            code=f"http_{response.status_code}",
            status=response.status_code,
            details=body["detail"],
        )
    return ApiError(
        f"The model service answered {response.status_code} {response.reason_phrase}",
        code=f"http_{response.status_code}",
        status=response.status_code,
    )
