"""Records as JSON documents in the registry: one item per record, its JSON in ``doc``.

A DynamoDB number loses its type (``1.0`` comes back as ``1``), and the API's answers (a
model's Keras history, a data set's statistics) must keep their floats; a JSON string keeps the
record exactly as it was written. Attributes next to ``doc`` (``extra``) are there for
conditions (a promotion's count). Listings are one Query on ``pk``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from model_api.core.registry import Registry


def put_doc(
    registry: Registry,
    pk: str,
    sk: str,
    record: Mapping[str, Any],
    *,
    new: bool = False,
    extra: Mapping[str, Any] | None = None,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> None:
    """Write ``record``; ``new``: only if no item has this key (else ``ConditionFailed``)."""
    item = {"doc": json.dumps(record, separators=(",", ":")), **(extra or {})}
    if new:
        condition = "attribute_not_exists(pk)"
    registry.put(pk, sk, item, condition=condition, names=names, values=values)


def get_doc(registry: Registry, pk: str, sk: str) -> dict[str, Any] | None:
    item = registry.get(pk, sk)
    return None if item is None else json.loads(item["doc"])


def query_docs(
    registry: Registry, pk: str, *, descending: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """Every record of ``pk`` as (sk, record), in sk order."""
    return [(sk, json.loads(item["doc"])) for sk, item in registry.query(pk, descending=descending)]
