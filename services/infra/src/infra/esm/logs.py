"""Logging for the runner in the shared JSON-lines format (``iris_common.logs``)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("infra.esm")
# LogRecord's own attribute names cannot be passed in ``extra``; such fields get a suffix.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def log(level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with ``fields`` as top-level keys of the JSON line."""
    if logger.isEnabledFor(level):
        extra = {f"{k}_" if k in _RESERVED else k: v for k, v in fields.items()}
        logger.log(level, message, extra=extra)
