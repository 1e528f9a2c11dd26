"""The registry's values on the wire: plain Python ↔ DynamoDB's attribute-value shape.

Apart from ``registry`` because it is the one place that decides what a stored value becomes:
floats go in as ``Decimal`` (which DynamoDB needs) and numbers come back as ``int`` when
integral, else ``float``; NaN and infinity cannot be stored and are refused; binary comes back
as ``bytes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()
Item = dict[str, Any]


def _to_wire(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, int, bytes)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"the registry cannot store {value!r}")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    if isinstance(value, Decimal):
        return value
    raise TypeError(f"the registry cannot store a {type(value).__name__}")


def _from_wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    if isinstance(value, set):
        return {_from_wire(v) for v in value}
    if isinstance(value, Binary):
        return bytes(value.value)
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values → DynamoDB's attribute-value shape."""
    return {k: _ser.serialize(_to_wire(v)) for k, v in item.items()}


def deserialize(item: Mapping[str, Any]) -> Item:
    """DynamoDB's attribute-value shape → plain values."""
    return {k: _from_wire(_de.deserialize(v)) for k, v in item.items()}


def attributes(raw: Mapping[str, Any]) -> Item:
    """A raw item's plain attributes without its key (``pk``, ``sk``): what callers get back."""
    item = deserialize(raw)
    item.pop("pk", None)
    item.pop("sk", None)
    return item
