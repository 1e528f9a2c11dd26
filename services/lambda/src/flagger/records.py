"""Parsing DynamoDB stream records (the real AWS event shape) into score records.

A stream record carries typed attribute values (``{"S": "0.93"}``, ``{"N": "0.93"}``). The course
and the product write every attribute as a string; older items hold numbers as ``N``: both are
accepted. Anything else that cannot be read is a :class:`MalformedRecord`. It can never become
readable by retrying, so the handler copies it as an ``unreadable`` candidate (with its key from
:func:`retrain_key`, its well-formed attributes from :func:`split_attributes`) instead of
reporting it as a failed item.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

KEY_NAMES = ("partition_key", "sort_key")
HANDLED_EVENTS = ("INSERT", "MODIFY")

AttributeValue = dict[str, Any]
Image = dict[str, AttributeValue]


class MalformedRecord(ValueError):
    """A stream record that cannot be evaluated (missing or mistyped fields)."""

    def __init__(self, message: str, keys: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.keys = keys or {}


@dataclass(frozen=True)
class ScoreRecord:
    """What the rules need from one score-table item, plus the item to copy."""

    sequence_number: str
    event_name: str
    keys: dict[str, str]
    predicted: str
    actual: str
    probability: float
    image: Image


def sequence_number(record: Any) -> str | None:
    """The record's stream sequence number (its ``itemIdentifier``), if it has one."""
    if isinstance(record, dict):
        ddb = record.get("dynamodb")
        if isinstance(ddb, dict) and isinstance(ddb.get("SequenceNumber"), str):
            return ddb["SequenceNumber"]
    return None


def record_keys(record: Any) -> dict[str, Any]:
    """Best-effort plain key values for logs, whatever state the record is in."""
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        return {}
    ddb = record["dynamodb"]
    for source in (ddb.get("Keys"), ddb.get("NewImage")):
        if isinstance(source, dict):
            found = {n: _plain(source[n]) for n in KEY_NAMES if n in source}
            if found:
                return found
    return {}


def _key_from(source: Any) -> dict[str, str] | None:
    if not isinstance(source, dict):
        return None
    values = [source.get(name) for name in KEY_NAMES]
    if all(isinstance(v, dict) and isinstance(v.get("S"), str) and v["S"] for v in values):
        return {name: v["S"] for name, v in zip(KEY_NAMES, values, strict=True)}
    return None


def retrain_key(record: Any) -> dict[str, str] | None:
    """The retrain item's key for any record, readable or not: from ``NewImage``, else from
    ``Keys`` (always there on a real stream). ``None`` when neither holds two non-empty S."""
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        return None
    ddb = record["dynamodb"]
    return _key_from(ddb.get("NewImage")) or _key_from(ddb.get("Keys"))


_SCALARS = {"S": str, "B": str, "BOOL": bool}
_SETS = ("SS", "BS", "NS")


def _number(raw: Any) -> bool:
    try:
        return isinstance(raw, str) and Decimal(raw.strip()).is_finite()
    except InvalidOperation:
        return False


def well_formed(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is a typed attribute value DynamoDB would accept in a write (the checks
    that matter here; DynamoDB itself still has the last word)."""
    if not isinstance(value, dict) or len(value) != 1 or depth > 32:
        return False
    ((kind, raw),) = value.items()
    if kind in _SCALARS:
        return isinstance(raw, _SCALARS[kind])
    if kind == "N":
        return _number(raw)
    if kind == "NULL":
        return raw is True
    if kind in _SETS:
        ok = _number if kind == "NS" else (lambda v: isinstance(v, str))
        return (
            isinstance(raw, list)
            and bool(raw)
            and len(set(map(str, raw))) == len(raw)
            and all(ok(v) for v in raw)
        )
    if kind == "L":
        return isinstance(raw, list) and all(well_formed(v, depth + 1) for v in raw)
    if kind == "M":
        return isinstance(raw, dict) and all(
            isinstance(k, str) and well_formed(v, depth + 1) for k, v in raw.items()
        )
    return False


def split_attributes(image: Any) -> tuple[Image, dict[str, Any]]:
    """``image``'s well-formed attributes (copied as they are) and the others (kept as text)."""
    if not isinstance(image, Mapping):
        return {}, ({} if image is None else {"NewImage": image})
    good: Image = {}
    bad: dict[str, Any] = {}
    for name, value in image.items():
        (good if isinstance(name, str) and well_formed(value) else bad)[str(name)] = value
    return good, bad


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _text(image: Image, name: str, keys: dict[str, Any]) -> str:
    """A string attribute; ``N`` is accepted (its decimal text) for writers that store numbers."""
    value = image.get(name)
    if not isinstance(value, dict) or len(value) != 1:
        raise MalformedRecord(f"attribute {name!r} is missing or not a typed value", keys)
    ((kind, raw),) = value.items()
    if kind not in ("S", "N") or not isinstance(raw, str):
        raise MalformedRecord(f"attribute {name!r} must be S or N, got {kind}", keys)
    if not raw.strip():
        raise MalformedRecord(f"attribute {name!r} is empty", keys)
    return raw


def _probability(image: Image, keys: dict[str, Any]) -> float:
    raw = _text(image, "Probability", keys)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise MalformedRecord(f"Probability is not a number: {raw!r}", keys) from None
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise MalformedRecord(f"Probability must be within [0, 1], got {raw!r}", keys)
    return number


def parse_record(record: Any) -> ScoreRecord | None:
    """The score record in a stream record, or ``None`` when there is nothing to evaluate.

    REMOVE events and records without a ``NewImage`` (e.g. a KEYS_ONLY stream) are ignored, not
    failures: there is no prediction to judge.
    """
    if not isinstance(record, dict):
        raise MalformedRecord("stream record is not an object")
    keys = record_keys(record)
    ddb = record.get("dynamodb")
    event_name = record.get("eventName")
    seq = sequence_number(record)
    if not isinstance(ddb, dict) or seq is None:
        raise MalformedRecord("stream record has no dynamodb.SequenceNumber", keys)
    if event_name not in (*HANDLED_EVENTS, "REMOVE"):
        raise MalformedRecord(f"unknown eventName {event_name!r}", keys)
    image = ddb.get("NewImage")
    if event_name == "REMOVE" or image is None:
        return None
    if not isinstance(image, dict):
        raise MalformedRecord("dynamodb.NewImage is not an object", keys)
    plain_keys: dict[str, str] = {}
    for name in KEY_NAMES:
        value = image.get(name)
        if not isinstance(value, dict) or not isinstance(value.get("S"), str) or not value["S"]:
            raise MalformedRecord(f"key attribute {name!r} is missing or not a non-empty S", keys)
        plain_keys[name] = value["S"]
    _, malformed = split_attributes(image)
    if malformed:
        names = ", ".join(sorted(malformed))
        raise MalformedRecord(f"attribute(s) {names} are not valid DynamoDB values", plain_keys)
    return ScoreRecord(
        sequence_number=seq,
        event_name=event_name,
        keys=plain_keys,
        predicted=_text(image, "Class", plain_keys).strip(),
        actual=_text(image, "Actual", plain_keys).strip(),
        probability=_probability(image, plain_keys),
        image=image,
    )
