"""Figures of a model: its training history, its confusion matrix on a test, and one row's class
probabilities (pure functions, tested directly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.components.figures import (
    ACCENT,
    LAYOUT,
    SECONDARY,
    colour_map,
    empty_figure,
    figure,
    title,
)


def _history_axes() -> dict[str, Any]:
    """The two panels' axes and titles, laid out once by plotly's make_subplots."""
    layout = make_subplots(
        rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1
    ).to_plotly_json()["layout"]
    layout.pop("template", None)
    return layout


_HISTORY_AXES = _history_axes()


def history_figure(history: Mapping[str, Sequence[float]] | None) -> go.Figure:
    """Loss and accuracy per epoch, training and validation, side by side."""
    history = history or {}
    loss = list(history.get("loss") or [])
    if not loss:
        return empty_figure("No training history yet", height=300)
    series = [
        ("loss", 1, ACCENT, "solid", "train"),
        ("val_loss", 1, ACCENT, "dash", "validation"),
        ("accuracy", 2, SECONDARY, "solid", "train"),
        ("val_accuracy", 2, SECONDARY, "dash", "validation"),
    ]
    traces = []
    for key, col, colour, dash, label in series:
        values = list(history.get(key) or [])
        if not values:
            continue
        traces.append(
            {
                "line": {"color": colour, "dash": dash},
                "marker": {"size": 4},
                "mode": "lines+markers",
                "name": f"{key.split('_')[-1]} ({label})",
                "x": list(range(1, len(values) + 1)),
                "y": values,
                "type": "scatter",
                "xaxis": "x" if col == 1 else "x2",
                "yaxis": "y" if col == 1 else "y2",
            }
        )
    axes = _HISTORY_AXES
    epoch = {"title": {"text": "epoch"}}
    return figure(
        traces,
        {
            "annotations": [dict(a) for a in axes["annotations"]],
            "xaxis": axes["xaxis"] | epoch,
            "xaxis2": axes["xaxis2"] | epoch,
            "yaxis": axes["yaxis"] | {"rangemode": "tozero"},
            "yaxis2": axes["yaxis2"] | {"range": [0, 1.02]},
            "height": 340,
            "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
            "legend": LAYOUT["legend"]
            | {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "center", "x": 0.5},
        },
    )


def confusion_figure(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> go.Figure:
    """The confusion matrix as an annotated heat map (rows actual, columns predicted)."""
    if not labels or not matrix:
        return empty_figure("No test result yet")
    names = [str(lbl) for lbl in labels]
    heat = {
        "colorscale": _BLUES,
        "hovertemplate": "actual %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
        "showscale": False,
        "text": [[str(v) for v in r] for r in matrix],
        "texttemplate": "%{text}",
        "x": names,
        "y": names,
        "z": [list(r) for r in matrix],
        "type": "heatmap",
    }
    return figure(
        [heat],
        {
            "xaxis": {"side": "bottom", "title": {"text": "predicted"}},
            "yaxis": {"autorange": "reversed", "title": {"text": "actual"}},
            "title": title("Confusion matrix"),
            "height": 340,
        },
    )


# plotly.py writes a named colour scale out as its stops: so do we (the same JSON)
_BLUES = go.Heatmap(colorscale="Blues").to_plotly_json()["colorscale"]


def probability_figure(probabilities: Mapping[str, float], predicted: str | None) -> go.Figure:
    """One horizontal bar per class; the predicted class is highlighted."""
    if not probabilities:
        return empty_figure("Score a row to see the class probabilities", height=260)
    classes = list(probabilities)
    colours = colour_map(classes)
    bar = {
        "hovertemplate": "%{y}: %{x:.4f}<extra></extra>",
        "marker": {"color": [colours[c] if c == predicted else "#cfd8dc" for c in classes]},
        "orientation": "h",
        "text": [f"{float(probabilities[c]):.1%}" for c in classes],
        "textposition": "auto",
        "x": [float(probabilities[c]) for c in classes],
        "y": classes,
        "type": "bar",
    }
    return figure(
        [bar],
        {
            "xaxis": {"range": [0, 1], "tickformat": ".0%", "title": {"text": "probability"}},
            "yaxis": {"autorange": "reversed"},
            "title": title("Class probabilities"),
            "height": 260,
            "showlegend": False,
        },
    )
