"""Aggregates and views of one data set for charts and grids, computed next to the data.

WHY: a dashboard that draws a histogram or a scatter, or sorts a table, should not download
every row to do it. The frames are already in memory here (``DatasetStore``), so the answer is
a few hundred bytes of bin counts, or only the columns a chart plots, or one sorted page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from model_api.core.errors import invalid
from model_api.schema.features import LABEL

MAX_BINS = 200


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        raise invalid(
            f"the data set has no column {column!r}",
            {"columns": list(frame.columns)},
            code="unknown_column",
        )
    if not pd.api.types.is_numeric_dtype(frame[column]):
        raise invalid(f"column {column!r} is not numeric", code="not_numeric")
    return frame[column]


def histogram(frame: pd.DataFrame, column: str, bins: int | None = None) -> dict[str, Any]:
    """Shared bin edges over the column and the count per class in each bin."""
    values = _numeric(frame, column).to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        edges = np.array([0.0, 1.0])
    else:
        edges = np.histogram_bin_edges(finite, bins=bins or "auto")
        if len(edges) - 1 > MAX_BINS:
            edges = np.histogram_bin_edges(finite, bins=MAX_BINS)
    labels = frame[LABEL].astype(str) if LABEL in frame.columns else pd.Series(["all"] * len(frame))
    counts: dict[str, list[int]] = {}
    for name in sorted(labels.unique()):
        part = values[(labels == name).to_numpy()]
        counts[str(name)] = np.histogram(part[np.isfinite(part)], bins=edges)[0].tolist()
    return {
        "column": column,
        "rows": len(frame),
        "edges": [float(e) for e in edges],
        "counts": counts,
    }


def columns(frame: pd.DataFrame, names: Sequence[str]) -> dict[str, Any]:
    """The named numeric columns as arrays, with the label of each row (for colouring)."""
    picked = {name: _numeric(frame, name).astype(float).tolist() for name in dict.fromkeys(names)}
    labels = frame[LABEL].astype(str).tolist() if LABEL in frame.columns else None
    return {"rows": len(frame), "columns": picked, "labels": labels}


def parse_sort(keys: Sequence[str], frame: pd.DataFrame) -> list[tuple[str, bool]]:
    """``["elevation:desc", "species"]`` → [(column, ascending)], checked against the frame."""
    out: list[tuple[str, bool]] = []
    for key in keys:
        column, _, direction = key.partition(":")
        direction = direction or "asc"
        if column not in frame.columns or direction not in ("asc", "desc"):
            raise invalid(
                f"cannot sort by {key!r}: use <column>[:asc|:desc]",
                {"columns": list(frame.columns)},
                code="invalid_sort",
            )
        out.append((column, direction == "asc"))
    return out


def sorted_frame(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """The frame in the order of the sort keys (stable: equal rows keep their order)."""
    order = parse_sort(keys, frame)
    if not order:
        return frame
    return frame.sort_values([c for c, _ in order], ascending=[a for _, a in order], kind="stable")
