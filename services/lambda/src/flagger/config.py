"""The function's settings, read from its Lambda environment.

Plain stdlib on purpose: the deployed zip carries no pydantic. Values are validated here so a bad
deployment fails loudly (a function error the event source mapping retries and reports) instead of
silently flagging with a wrong threshold.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_RETRAIN_TABLE = "IrisExtendedRetrain"
DEFAULT_THRESHOLD = 0.9


class ConfigError(ValueError):
    """The function's environment holds an invalid value."""


@dataclass(frozen=True)
class FlaggerConfig:
    """Where flagged records go and what counts as low confidence."""

    retrain_table: str = DEFAULT_RETRAIN_TABLE
    threshold: float = DEFAULT_THRESHOLD
    # The on-failure queue, for unreadable records with no key to copy them under.
    failure_queue_url: str | None = None

    def __post_init__(self) -> None:
        if not self.retrain_table.strip():
            raise ConfigError("RETRAIN_TABLE must not be empty")
        if not isinstance(self.threshold, (int, float)) or isinstance(self.threshold, bool):
            raise ConfigError(f"CONFIDENCE_THRESHOLD must be a number, got {self.threshold!r}")
        if not math.isfinite(self.threshold) or not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(f"CONFIDENCE_THRESHOLD must be within [0, 1], got {self.threshold}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FlaggerConfig:
        """Read ``RETRAIN_TABLE``, ``CONFIDENCE_THRESHOLD`` (defaults as in the contract) and
        ``FAILURE_QUEUE_URL`` (optional)."""
        env = os.environ if env is None else env
        raw = env.get("CONFIDENCE_THRESHOLD", "").strip()
        try:
            threshold = float(raw) if raw else DEFAULT_THRESHOLD
        except ValueError:
            raise ConfigError(f"CONFIDENCE_THRESHOLD must be a number, got {raw!r}") from None
        table = env.get("RETRAIN_TABLE", "").strip() or DEFAULT_RETRAIN_TABLE
        queue = env.get("FAILURE_QUEUE_URL", "").strip() or None
        return cls(retrain_table=table, threshold=threshold, failure_queue_url=queue)
