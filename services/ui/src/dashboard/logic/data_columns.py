"""The Data page's pure helpers: the dropped file's bytes, what the page keeps about a data set,
and its columns (the dropdowns' choices and the grid's column definitions)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, NamedTuple

from dashboard.components.grid import column_defs
from dashboard.components.pickers import Option
from dashboard.features import LABEL

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class Choices(NamedTuple):
    """The three column dropdowns: one list of options, each dropdown's value."""

    options: list[Option]
    hist: str | None
    x: str | None
    y: str | None


class UploadError(ValueError):
    """The dropped file cannot be sent (not a CSV, unreadable, too large)."""


def decode_upload(contents: str | None, filename: str | None) -> bytes:
    """dcc.Upload hands over ``data:<mime>;base64,<payload>``; return the raw file bytes."""
    if not contents:
        raise UploadError("No file received")
    if filename and not filename.lower().endswith((".csv", ".txt")):
        raise UploadError(f"{filename!r} is not a CSV file")
    _, _, payload = contents.partition(",")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UploadError("The file could not be read") from exc
    if not raw.strip():
        raise UploadError(f"{filename or 'The file'} is empty")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename or 'The file'} is larger than {MAX_UPLOAD_BYTES >> 20} MB")
    return raw


def summary_of(dataset: Mapping[str, Any]) -> dict[str, Any]:
    """What the page keeps about the loaded data set (no rows: those stay on the server)."""
    return {
        "id": int(dataset["id"]),
        "name": dataset.get("name"),
        "rows": dataset.get("rows"),
        "columns": list(dataset.get("columns") or []),
        "class_counts": dict(dataset.get("class_counts") or {}),
        "created_at": dataset.get("created_at"),
    }


def numeric_columns(current: Mapping[str, Any] | None) -> list[str]:
    """Plot-able columns come from the data set itself (never hard-coded): all but the label."""
    columns = list((current or {}).get("columns") or [])
    return [c for c in columns if c != LABEL]


def column_choices(
    current: Mapping[str, Any] | None, hist: str | None, x: str | None, y: str | None
) -> Choices:
    """Options for the three column dropdowns and their values, keeping valid user choices."""
    numeric = numeric_columns(current)
    options = [{"label": c, "value": c} for c in numeric]
    if not numeric:
        return Choices([], None, None, None)

    def keep(value: str | None, default_index: int) -> str:
        if value in numeric:
            return str(value)
        return numeric[min(default_index, len(numeric) - 1)]

    defaults = {
        name: numeric.index(name) for name in ("petal_length", "petal_width") if name in numeric
    }
    return Choices(
        options,
        keep(hist, defaults.get("petal_length", 0)),
        keep(x, defaults.get("petal_length", 0)),
        keep(y, defaults.get("petal_width", 1)),
    )


def table_columns(current: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Grid columns of the data set, in its order: numbers right-aligned with four digits."""
    columns = list((current or {}).get("columns") or [])
    numeric = set(numeric_columns(current))
    return column_defs([(c, c) for c in columns], numeric=[c for c in columns if c in numeric])


def class_count_text(current: Mapping[str, Any]) -> str:
    counts = current.get("class_counts") or {}
    return " · ".join(f"{k}: {v}" for k, v in counts.items()) or "no label column"
