"""Paged reads of the score and retrain tables for the dashboard.

Pages follow DynamoDB's ``LastEvaluatedKey``, handed out as an opaque cursor (base64url JSON of
the key), so paging never skips or repeats an item. Items come back as plain JSON: the table's
attributes as stored (the course's strings verbatim) plus parsed conveniences (``run_id``,
``position``, ``probability`` as a float, ``features`` and ``class_probabilities`` as objects).
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

_deserializer = TypeDeserializer()
_KEY_NAMES = frozenset({"partition_key", "sort_key"})
# A filtered Scan may evaluate many items to find a few: bound the work of one request.
MAX_SCAN_PAGES = 10
# Ids are written as S now (every attribute a string, for course-era Lambdas); items written
# before that hold N. A filter matches both, and reads convert both to int.
MODEL_FILTER = "model_id IN (:m_s, :m_n)"
_ID_ATTRIBUTES = ("model_id", "dataset_id")


def model_values(model_id: int) -> dict[str, dict[str, str]]:
    """The filter values for one model id, as the new S and as the old N attribute."""
    return {":m_s": {"S": str(model_id)}, ":m_n": {"N": str(model_id)}}


def _id_value(value: Any) -> Any:
    """``"7"`` (new S) or ``7`` (old N, already an int) as the int 7; anything else as it is."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


class BadCursor(ValueError):
    """A cursor this service did not hand out (or one for another query)."""


class TableUnavailable(RuntimeError):
    """The endpoint is down or the table is missing; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, partition: str | None = None) -> dict[str, Any] | None:
    """The ``ExclusiveStartKey`` a cursor stands for; ``BadCursor`` unless it is a table key
    (of ``partition``, when the query is one partition)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("the cursor is not one this service returned") from exc
    if (
        not isinstance(key, dict)
        or set(key) != _KEY_NAMES
        or not all(isinstance(v, dict) and set(v) == {"S"} for v in key.values())
        or not all(isinstance(v["S"], str) and v["S"] for v in key.values())
    ):
        raise BadCursor("the cursor is not one this service returned")
    if partition is not None and key["partition_key"]["S"] != partition:
        raise BadCursor("the cursor belongs to another run")
    return key


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def to_json(item: dict[str, Any]) -> dict[str, Any]:
    """A table item as plain JSON, with the course's strings parsed alongside (never replaced)."""
    record = {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}
    for name in _ID_ATTRIBUTES:
        if name in record:
            record[name] = _id_value(record[name])
    record["run_id"] = record.get("partition_key")
    sort_key = record.get("sort_key")
    record["position"] = int(sort_key) if isinstance(sort_key, str) and sort_key.isdigit() else None
    try:
        record["probability"] = float(record["Probability"])
    except (KeyError, TypeError, ValueError):
        record["probability"] = None
    try:
        features = ast.literal_eval(record["Features"])
        record["features"] = features if isinstance(features, dict) else None
    except (KeyError, ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        record["features"] = None
    try:
        probs = json.loads(record["probabilities"])
        record["class_probabilities"] = probs if isinstance(probs, dict) else None
    except (KeyError, TypeError, ValueError):
        record["class_probabilities"] = None
    return record


def _translate(table: str, exc: Exception, cursor: str | None) -> Exception:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return TableUnavailable("table_not_found", f"table {table} does not exist")
        if code == "ValidationException" and cursor:
            return BadCursor("the cursor does not fit this query")
        return TableUnavailable("aws_error", f"table {table} cannot be read: {code}")
    return TableUnavailable("aws_unavailable", f"the DynamoDB endpoint cannot be reached: {exc}")


class RecordReader:
    """Reads for ``GET /api/runs/{run_id}/records`` and ``GET /api/retrain``."""

    def __init__(self, client: Any, score_table: str, retrain_table: str | None) -> None:
        self._client = client
        self.score_table = score_table
        self.retrain_table = retrain_table

    async def _call(self, method: str, table: str, cursor: str | None, **kwargs: Any) -> Any:
        try:
            return await getattr(self._client, method)(TableName=table, **kwargs)
        except (ClientError, BotoCoreError, OSError) as exc:
            raise _translate(table, exc, cursor) from exc

    async def run_records(self, run_id: str, limit: int = 100, cursor: str | None = None) -> Page:
        """One page of a run's records in row order."""
        return await self._query(self.score_table, run_id, None, limit, cursor)

    async def retrain(
        self,
        run_id: str | None = None,
        model_id: int | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        """Retrain candidates of a run (Query), of a model (filtered Scan) or all (Scan)."""
        if self.retrain_table is None:
            raise TableUnavailable("table_not_configured", "no retrain table is configured")
        if run_id is not None:
            return await self._query(self.retrain_table, run_id, model_id, limit, cursor)
        return await self._scan(self.retrain_table, model_id, limit, cursor)

    async def count_retrain(self, run_id: str) -> int:
        """How many retrain candidates a run has: a ``Select=COUNT`` query of its partition,
        followed page by page (DynamoDB counts at most 1 MB of items per request)."""
        if self.retrain_table is None:
            raise TableUnavailable("table_not_configured", "no retrain table is configured")
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "partition_key = :p",
            "ExpressionAttributeValues": {":p": {"S": run_id}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = await self._call("query", self.retrain_table, None, **kwargs)
            total += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if not start:
                return total
            kwargs["ExclusiveStartKey"] = start

    async def _query(
        self, table: str, run_id: str, model_id: int | None, limit: int, cursor: str | None
    ) -> Page:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "partition_key = :p",
            "ExpressionAttributeValues": {":p": {"S": run_id}},
        }
        if model_id is not None:
            kwargs["FilterExpression"] = MODEL_FILTER
            kwargs["ExpressionAttributeValues"] |= model_values(model_id)
        return await self._pages(
            "query", table, limit, decode_cursor(cursor, run_id), cursor, kwargs
        )

    async def _scan(self, table: str, model_id: int | None, limit: int, cursor: str | None) -> Page:
        kwargs: dict[str, Any] = {}
        if model_id is not None:
            kwargs["FilterExpression"] = MODEL_FILTER
            kwargs["ExpressionAttributeValues"] = model_values(model_id)
        return await self._pages("scan", table, limit, decode_cursor(cursor), cursor, kwargs)

    async def _pages(
        self,
        method: str,
        table: str,
        limit: int,
        start: dict[str, Any] | None,
        cursor: str | None,
        kwargs: dict[str, Any],
    ) -> Page:
        """Fill up to ``limit`` items; with a filter DynamoDB may return fewer per request, so
        read on (asking only for what is still missing, so no item is cut off mid-page)."""
        items: list[dict[str, Any]] = []
        for _ in range(MAX_SCAN_PAGES):
            request = dict(kwargs, Limit=limit - len(items))
            if start:
                request["ExclusiveStartKey"] = start
            response = await self._call(method, table, cursor, **request)
            items += [to_json(i) for i in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start or len(items) >= limit:
                break
        return Page(items, encode_cursor(start))
