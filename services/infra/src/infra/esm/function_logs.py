"""The function's outcome counts, read from its own log lines as CloudWatch would collect them.

The runner invokes the function by its handler string and learns from the response only which
records failed. What the function did with the others (flagged, passed, unreadable, ignored) it
says in one ``batch processed`` line per invocation (``flagger.log``: JSON, the counts as
fields); :class:`FunctionLog` sums those lines, as a metric filter on the function's log group
would, for the runner's metrics. It listens on the function's logger (the handler's top-level
package) only while the runner runs, so nothing of the emulator lives in the function.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

BATCH_LINE = "batch processed"
# The counts a batch line carries (the function's log contract: flagger.handler.OUTCOMES).
FUNCTION_OUTCOMES = ("flagged", "unreadable", "to_destination", "passed", "ignored", "failed")


class FunctionLog(logging.Handler):
    """Sums the outcome counts of the function's ``batch processed`` lines."""

    def __init__(self, logger_name: str) -> None:
        super().__init__(logging.INFO)
        self.logger_name = logger_name
        self.outcomes: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        line = _json_line(record.getMessage())
        if line is None or line.get("message") != BATCH_LINE:
            return
        counts = {k: line[k] for k in FUNCTION_OUTCOMES if isinstance(line.get(k), int)}
        self.outcomes.update(counts)  # emit runs under the handler's lock

    def attach(self) -> None:
        logging.getLogger(self.logger_name).addHandler(self)

    def detach(self) -> None:
        logging.getLogger(self.logger_name).removeHandler(self)

    def counts(self) -> dict[str, int]:
        with self.lock:  # type: ignore[union-attr]
            return dict(self.outcomes)


def _json_line(message: str) -> dict[str, Any] | None:
    if not message.startswith("{"):
        return None
    try:
        line = json.loads(message)
    except ValueError:
        return None
    return line if isinstance(line, dict) else None
