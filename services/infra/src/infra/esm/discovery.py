"""Where the runner reads from and writes to: the score table's stream, and the function's table.

The stream appears when the score table exists with its stream enabled; a new ARN (the stream was
re-enabled) is logged. Before invoking a function it configured itself, the runner waits for the
retrain table: invoking before it exists would fail every flagged record and, after the retries,
send them all to the on-failure file. Each "waiting" reason is logged once.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from infra.aws import error_code
from infra.esm.logs import log
from infra.esm.settings import EsmSettings


class StreamTarget:
    """The table's current stream ARN, and whether the function's target table is there."""

    def __init__(self, settings: EsmSettings, dynamodb: Any, *, wait_for_retrain: bool) -> None:
        self.settings = settings
        self.dynamodb = dynamodb
        self.stream_arn: str | None = None
        self._target_checked = not wait_for_retrain
        self._logged: set[str] = set()

    def current_stream_arn(self) -> str | None:
        try:
            table = self.dynamodb.describe_table(TableName=self.settings.score_table)["Table"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                self._log_once("score table does not exist yet; waiting")
                return None
            raise
        arn = table.get("LatestStreamArn")
        enabled = table.get("StreamSpecification", {}).get("StreamEnabled", False)
        if not arn or not enabled:
            self._log_once("score table has no enabled stream; waiting")
            return None
        if arn != self.stream_arn:
            log(logging.INFO, "stream found", stream_arn=arn, table=self.settings.score_table)
            self.stream_arn = arn
        return arn

    def target_ready(self) -> bool:
        if self._target_checked:
            return True
        try:
            self.dynamodb.describe_table(TableName=self.settings.retrain_table)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                self._log_once("retrain table does not exist yet; waiting")
                return False
            raise
        self._target_checked = True
        return True

    def _log_once(self, message: str) -> None:
        if message not in self._logged:
            self._logged.add(message)
            log(
                logging.WARNING,
                message,
                score_table=self.settings.score_table,
                retrain_table=self.settings.retrain_table,
            )
