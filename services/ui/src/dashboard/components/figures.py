"""Plotly figures built from model_api JSON: pure functions, so tests call them directly.

One look for the whole product: a white template, the same species colours everywhere, compact
margins, and an explicit "nothing to show" figure instead of an empty axis grid.

Figures are written as plain dicts (Plotly's JSON) and wrapped unvalidated (:func:`_figure`):
plotly.py's validation of every trace and property costs 20-50 ms per figure on two busy cores,
the dict ~1 ms; the JSON sent to the browser is the same.

Longer than 300 lines because it is one function per chart the product draws (seven), sharing
one template and one colour map; split, the product's look would live in two places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

SPECIES_COLOURS: dict[str, str] = {
    "setosa": "#2c7fb8",
    "versicolor": "#f39c12",
    "virginica": "#18bc9c",
}
_FALLBACK = ["#8e44ad", "#e74c3c", "#34495e", "#7f8c8d"]
ACCENT = "#2c3e50"
SECONDARY = "#18bc9c"
DANGER = "#e74c3c"


def _template() -> go.layout.Template:
    """plotly_white, keeping only the trace types drawn here: every figure carries its
    template to the browser, and the full one is 7 KB of defaults for 24 trace types."""
    base = pio.templates["plotly_white"]
    used = ("bar", "heatmap", "scatter")
    return go.layout.Template(layout=base.layout, data={k: getattr(base.data, k) for k in used})


_LAYOUT: dict[str, Any] = {
    "template": _template().to_plotly_json(),
    "margin": {"l": 50, "r": 20, "t": 70, "b": 45},
    "font": {"family": "Lato, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
    # title top-left, legend just above the plot on the right, the mode bar above the legend
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    "title": {"x": 0.01, "xanchor": "left", "y": 0.97, "yanchor": "top", "font": {"size": 14}},
}


def colour_map(classes: Sequence[str]) -> dict[str, str]:
    """A stable colour per class: the known species keep theirs, others take the fallbacks."""
    out: dict[str, str] = {}
    extra = iter(_FALLBACK * 10)
    for name in classes:
        out[str(name)] = SPECIES_COLOURS.get(str(name)) or next(extra)
    return out


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from Plotly JSON in the product's style, not validated again (see above):
    ``layout`` goes over the common one, key by key at the top level."""
    return go.Figure({"data": data, "layout": _LAYOUT | layout}, _validate=False)


def _title(text: str) -> dict[str, Any]:
    return _LAYOUT["title"] | {"text": text}


def empty_figure(message: str, height: int = 320) -> go.Figure:
    """A blank figure carrying a centred message (no data yet, or an error)."""
    note = {"font": {"color": "#7b8a8b", "size": 14}, "showarrow": False, "text": message}
    note |= {"x": 0.5, "xref": "paper", "y": 0.5, "yref": "paper"}
    hidden = {"visible": False}
    return _figure([], {"annotations": [note], "xaxis": hidden, "yaxis": hidden, "height": height})


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
    return _figure(
        bars,
        {
            "barmode": "stack",
            "bargap": 0,
            "legend": _LAYOUT["legend"] | {"traceorder": "normal"},
            "xaxis": {"title": {"text": column}},
            "yaxis": {"title": {"text": "rows"}},
            "title": _title(f"Distribution of {column}"),
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
    return _figure(
        traces,
        {
            "xaxis": {"title": {"text": x}},
            "yaxis": {"title": {"text": y}},
            "title": _title(f"{y} vs {x}"),
            "height": 360,
        },
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
    return _figure(
        traces,
        {
            "annotations": [dict(a) for a in axes["annotations"]],
            "xaxis": axes["xaxis"] | epoch,
            "xaxis2": axes["xaxis2"] | epoch,
            "yaxis": axes["yaxis"] | {"rangemode": "tozero"},
            "yaxis2": axes["yaxis2"] | {"range": [0, 1.02]},
            "height": 340,
            "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
            "legend": _LAYOUT["legend"]
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
    return _figure(
        [heat],
        {
            "xaxis": {"side": "bottom", "title": {"text": "predicted"}},
            "yaxis": {"autorange": "reversed", "title": {"text": "actual"}},
            "title": _title("Confusion matrix"),
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
    return _figure(
        [bar],
        {
            "xaxis": {"range": [0, 1], "tickformat": ".0%", "title": {"text": "probability"}},
            "yaxis": {"autorange": "reversed"},
            "title": _title("Class probabilities"),
            "height": 260,
            "showlegend": False,
        },
    )


def runs_figure(runs: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Accuracy and flagged share per run over time (oldest left)."""
    points = [r for r in runs if r.get("created_at")]
    if not points:
        return empty_figure("No test runs yet — run one on the Test page", height=320)
    points = sorted(points, key=lambda r: str(r["created_at"]))
    when = [pd.Timestamp(r["created_at"]) for r in points]
    stamps = [t.isoformat() for t in when]
    labels = [f"{r.get('run_id', '')}<br>model {r.get('model_id')}" for r in points]
    traces = [
        {
            "customdata": labels,
            "hovertemplate": "%{customdata}<br>accuracy %{y:.1%}<extra></extra>",
            "line": {"color": ACCENT},
            "mode": "lines+markers",
            "name": "accuracy",
            "x": stamps,
            "y": [r.get("accuracy") for r in points],
            "type": "scatter",
        }
    ]
    shares = [r.get("flagged_share") for r in points]
    if any(s is not None for s in shares):
        traces.append(
            {
                "customdata": labels,
                "hovertemplate": "%{customdata}<br>flagged %{y:.1%}<extra></extra>",
                "line": {"color": DANGER, "dash": "dot"},
                "mode": "lines+markers",
                "name": "flagged share",
                "x": stamps,
                "y": shares,
                "type": "scatter",
            }
        )
    layout: dict[str, Any] = {"yaxis": {"range": [0, 1.02], "tickformat": ".0%"}}
    span = when[-1] - when[0]
    if span < pd.Timedelta(minutes=10):  # a few runs seconds apart: show them in context
        pad = (pd.Timedelta(minutes=10) - span) / 2
        layout["xaxis"] = {"range": [(when[0] - pad).isoformat(), (when[-1] + pad).isoformat()]}
    title = _title("Accuracy and flagged share per run")
    return _figure(traces, layout | {"title": title, "height": 320})
