"""Turning GetRecords output into the exact event Lambda hands the function.

boto3 parses ``ApproximateCreationDateTime`` into a datetime and binary values into bytes; the
Lambda event carries epoch seconds and base64 text, and adds ``eventSourceARN``. Converting here
means the handler sees, in-process, the same JSON it would see on AWS.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def to_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """One stream record as it appears in a Lambda DynamoDB event."""
    out = _jsonable(record)
    out["eventSourceARN"] = stream_arn
    return out
