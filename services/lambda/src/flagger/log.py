"""Structured logs: one JSON object per line, as Powertools' Logger writes them.

CloudWatch (or the local runner's stdout) gets machine-readable lines with the record's key, so a
failed record can be found without guessing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

_logger = logging.getLogger("flagger")


def _configure() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    _logger.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    if not logging.getLogger().handlers and not _logger.handlers:
        # Outside the Lambda runtime (which installs a root handler) still print the lines.
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        _logger.addHandler(handler)
        _logger.propagate = False


_configure()


def log(level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with ``fields`` as a single JSON line."""
    if _logger.isEnabledFor(level):
        payload = {"level": logging.getLevelName(level), "logger": "flagger", "message": message}
        payload.update(fields)
        _logger.log(level, json.dumps(payload, default=str, sort_keys=False))
