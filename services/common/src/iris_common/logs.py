"""One log format for every service: a JSON object per line, with the request id on every line.

Fields: ``ts`` (UTC, ISO 8601, milliseconds), ``level``, ``service``, ``logger``, ``message``,
``request_id`` (the id of the HTTP request being served, or null), any ``extra={...}`` fields the
call passed, and ``exc`` (the traceback) when there is one. The request id travels between
services in the ``X-Request-ID`` header, so one id follows a click from the dashboard into
model_api's log.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from typing import Any

from iris_common.clock import iso_from_epoch

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def new_request_id(incoming: str | None = None) -> str:
    """The caller's id when it is a sane token (so ids chain across services), else a fresh one."""
    if incoming and _VALID_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def set_request_id(request_id: str | None) -> contextvars.Token:
    return _request_id.set(request_id)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line in the shared format."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": iso_from_epoch(record.created),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(service: str, level: int | str = logging.INFO, stream: Any = None) -> None:
    """Send every logger of this process (uvicorn's and waitress's too) through the format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "waitress"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
