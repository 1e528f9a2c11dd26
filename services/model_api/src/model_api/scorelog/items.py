"""The score table item, built exactly as the record contract says (docs/contract.md).

The course's four strings (``Features``, ``Class``, ``Actual``, ``Probability``) keep the course's
format so any course Lambda still works; the extras (model id, data set id, the probability
vector, created-at time) are for analytics and are strings too (``model_id`` is ``{"S": "7"}``), so
every attribute of the item is ``S``. Items are in DynamoDB's wire format (``{"S": ...}``)
because the writer talks to the low-level client and the outbox stores them as JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from iris_common.clock import iso_utc

WireItem = dict[str, dict[str, Any]]

SORT_KEY_WIDTH = 6


class RunInfo(Protocol):
    """What the score log needs to know about a batch-test run (model_api's ``TestRunInfo``)."""

    run_id: str
    model_id: int
    dataset_id: int
    classes: list[str]
    created_at: datetime


class ScoredRow(Protocol):
    """One tested row (model_api's ``TestedRow``): the row as tested and its prediction."""

    position: int
    row: dict[str, Any]
    predicted: str
    probabilities: list[float]


class RecordError(ValueError):
    """A run or row that cannot become a valid score-table item (caller's bug, not transient)."""


def plain(value: Any) -> Any:
    """A plain Python value: numpy scalars print as ``np.float64(1.5)`` under numpy 2, which
    would break the course's ``str(dict)`` format and ``ast.literal_eval`` on the way back."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    # numpy.float64 / numpy.str_ subclass float / str yet repr as np.float64(...): normalise.
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    return value


def sort_key_width(max_position: int) -> int:
    """Six digits as the contract shows, wider for huge runs so keys still sort by position."""
    return max(SORT_KEY_WIDTH, len(str(max_position)))


def sort_key(position: int, width: int = SORT_KEY_WIDTH) -> str:
    """Zero-padded row position (``000042``)."""
    if position < 0:
        raise RecordError(f"row position must be >= 0, got {position}")
    return f"{position:0{width}d}"


_PLAIN_TYPES = frozenset({bool, int, float, str, type(None)})


def _plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    if _PLAIN_TYPES.issuperset(map(type, row.values())) and all(type(k) is str for k in row):
        return dict(row)  # the common case (model_api passes plain values): no per-value work
    return {str(k): plain(v) for k, v in row.items()}


class _RunConstants:
    """What every item of a run shares, computed once per run (10,000 rows in well under 1 s)."""

    def __init__(self, run: RunInfo) -> None:
        self.classes = [str(plain(c)) for c in run.classes]
        self.index = {c: i for i, c in enumerate(self.classes)}
        self.json_names = [json.dumps(c) for c in self.classes]
        self.partition_key = {"S": str(run.run_id)}
        # Every attribute is S: course-era Lambdas json.dumps the deserialised NewImage, and
        # TypeDeserializer turns N into Decimal, which json.dumps refuses.
        self.model_id = {"S": str(int(run.model_id))}
        self.dataset_id = {"S": str(int(run.dataset_id))}
        self.created_at = {"S": iso_utc(run.created_at)}


def _item(k: _RunConstants, row: ScoredRow, width: int) -> WireItem:
    probabilities = [float(p) for p in row.probabilities]
    if len(probabilities) != len(k.classes):
        raise RecordError(
            f"row {row.position}: {len(probabilities)} probabilities for {len(k.classes)} classes"
        )
    if not all(math.isfinite(p) for p in probabilities):  # would be written as "nan" / "inf"
        raise RecordError(f"row {row.position}: probabilities must be finite, got {probabilities}")
    predicted = str(plain(row.predicted))
    index = k.index.get(predicted)
    if index is None:
        raise RecordError(
            f"row {row.position}: predicted class {predicted!r} is not in {k.classes}"
        )
    values = _plain_row(row.row)
    if "species" not in values:
        raise RecordError(f"row {row.position}: the row has no 'species' (actual class)")
    # Same text as json.dumps(dict(zip(classes, probabilities))), without its per-call overhead.
    vector = ", ".join(
        f"{name}: {json.dumps(p)}" for name, p in zip(k.json_names, probabilities, strict=True)
    )
    return {
        "partition_key": k.partition_key,
        "sort_key": {"S": sort_key(int(row.position), width)},
        "Features": {"S": str(values)},
        "Class": {"S": predicted},
        "Actual": {"S": str(values["species"])},
        "Probability": {"S": str(probabilities[index])},
        "model_id": k.model_id,
        "dataset_id": k.dataset_id,
        "probabilities": {"S": "{" + vector + "}"},
        "created_at": k.created_at,
    }


def build_item(run: RunInfo, row: ScoredRow, width: int = SORT_KEY_WIDTH) -> WireItem:
    """The score-table item for one tested row, in DynamoDB wire format."""
    return _item(_RunConstants(run), row, width)


def build_items(run: RunInfo, rows: Sequence[ScoredRow]) -> list[tuple[int, WireItem]]:
    """All items of a run as ``(position, item)``; positions must be unique within the run."""
    if not str(run.run_id):
        raise RecordError("run_id must not be empty")
    if not rows:
        return []
    width = sort_key_width(max(int(r.position) for r in rows))
    constants = _RunConstants(run)
    out = [(int(r.position), _item(constants, r, width)) for r in rows]
    if len({p for p, _ in out}) != len(out):
        raise RecordError(f"run {run.run_id}: row positions are not unique")
    return out
