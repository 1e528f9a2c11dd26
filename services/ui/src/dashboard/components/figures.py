"""The product's one look for Plotly figures: a white template, the same species colours
everywhere, compact margins, and an explicit "nothing to show" figure instead of an empty grid.

Figures are written as plain dicts (Plotly's JSON) and wrapped unvalidated (:func:`figure`):
plotly.py's validation of every trace and property costs 20-50 ms per figure on two busy cores,
the dict ~1 ms; the JSON sent to the browser is the same. The charts themselves live by page
domain: ``data_figures`` (histogram, scatter), ``model_figures`` (history, confusion matrix,
class probabilities), ``run_figures`` (runs over time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from dash import dcc

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


LAYOUT: dict[str, Any] = {
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


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from Plotly JSON in the product's style, not validated again (see above):
    ``layout`` goes over the common one, key by key at the top level."""
    return go.Figure({"data": data, "layout": LAYOUT | layout}, _validate=False)


def title(text: str) -> dict[str, Any]:
    """The common title style, with ``text``."""
    return LAYOUT["title"] | {"text": text}


def empty_figure(message: str, height: int = 320) -> go.Figure:
    """A blank figure carrying a centred message (no data yet, or an error)."""
    note = {"font": {"color": "#7b8a8b", "size": 14}, "showarrow": False, "text": message}
    note |= {"x": 0.5, "xref": "paper", "y": 0.5, "yref": "paper"}
    hidden = {"visible": False}
    return figure([], {"annotations": [note], "xaxis": hidden, "yaxis": hidden, "height": height})


def graph(figure: go.Figure, **props: Any) -> dcc.Graph:
    """A Dash graph of one figure, with the product's mode bar (no Plotly logo)."""
    return dcc.Graph(figure=figure, config={"displaylogo": False}, **props)
