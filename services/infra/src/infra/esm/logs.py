"""JSON-lines logging for the runner, so its output is as machine-readable as the function's."""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger("infra.esm")


def log(level: int, message: str, **fields: Any) -> None:
    """Log ``message`` and ``fields`` as one JSON object."""
    if logger.isEnabledFor(level):
        payload: dict[str, Any] = {
            "level": logging.getLevelName(level),
            "logger": "infra.esm",
            "message": message,
        }
        payload.update(fields)
        logger.log(level, json.dumps(payload, default=str))
