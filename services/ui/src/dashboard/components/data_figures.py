"""Figures of the Data page: a column's distribution and two columns against each other,
drawn from model_api's bin counts and column answers (pure functions, tested directly)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import plotly.graph_objects as go

from dashboard.components.figures import ACCENT, LAYOUT, colour_map, empty_figure, figure, title


def histogram_figure(bins: Mapping[str, Any] | None) -> go.Figure:
    """The distribution of one column, stacked by species so class overlap is visible.

    Drawn from model_api's bin counts (``GET /api/datasets/{id}/histogram``): one bar per bin
    and class, a few hundred numbers instead of every row.
    """
    bins = bins or {}
    edges = [float(e) for e in bins.get("edges") or []]
    counts = bins.get("counts") or {}
    column = bins.get("column")
    if len(edges) < 2 or not counts or not column:
        return empty_figure("Choose a column")
    centres = [(a + b) / 2 for a, b in pairwise(edges)]
    widths = [b - a for a, b in pairwise(edges)]
    colours = colour_map(list(counts))
    bars = [
        {
            "hovertemplate": f"{cls}<br>%{{x:.4g}}: %{{y}} rows<extra></extra>",
            "marker": {"color": colours[cls], "line": {"width": 0}},
            "name": cls,
            "opacity": 0.8,
            "width": widths,
            "x": centres,
            "y": list(values),
            "type": "bar",
        }
        for cls, values in counts.items()
    ]
    return figure(
        bars,
        {
            "barmode": "stack",
            "bargap": 0,
            "legend": LAYOUT["legend"] | {"traceorder": "normal"},
            "xaxis": {"title": {"text": column}},
            "yaxis": {"title": {"text": "rows"}},
            "title": title(f"Distribution of {column}"),
            "height": 360,
        },
    )


def scatter_figure(data: Mapping[str, Any] | None, x: str | None, y: str | None) -> go.Figure:
    """Two columns against each other, coloured by species.

    SVG ``scatter``, not WebGL ``scattergl``: for the data sets here (about a thousand points)
    SVG draws as fast, and a WebGL context costs a page load hundreds of ms where the browser
    has no GPU (headless Chromium falls back to software rendering).

    ``data`` is model_api's ``GET /api/datasets/{id}/columns`` answer: the two columns and the
    rows' labels, not the whole data set.
    """
    columns = (data or {}).get("columns") or {}
    if not x or not y or x not in columns or y not in columns:
        return empty_figure("Choose x and y columns")
    xs, ys = list(columns[x]), list(columns[y])
    labels = (data or {}).get("labels")
    traces: list[dict[str, Any]] = []
    if labels:
        classes = sorted({str(lbl) for lbl in labels})
        colours = colour_map(classes)
        for cls in classes:
            picked = [i for i, lbl in enumerate(labels) if str(lbl) == cls]
            traces.append(
                {
                    "marker": {"color": colours[cls], "opacity": 0.75, "size": 6},
                    "mode": "markers",
                    "name": cls,
                    "x": [xs[i] for i in picked],
                    "y": [ys[i] for i in picked],
                    "type": "scatter",
                }
            )
    else:
        traces.append(
            {"marker": {"color": ACCENT}, "mode": "markers", "x": xs, "y": ys, "type": "scatter"}
        )
    return figure(
        traces,
        {
            "xaxis": {"title": {"text": x}},
            "yaxis": {"title": {"text": y}},
            "title": title(f"{y} vs {x}"),
            "height": 360,
        },
    )
